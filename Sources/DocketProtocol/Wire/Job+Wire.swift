import DocketCore

extension Job: WireObject {
    /// The job of SPEC 2.2.
    public func members<Members: WireMembers>(into members: inout Members) {
        members.add("id", id)
        members.add("tenant_id", tenantId)
        members.add("name", name)
        members.add("description", description)
        members.add("status", status.rawValue)
        members.add("priority", priority)
        members.add("schedule", schedule ?? .null)
        members.add("next_run_at", nextRunAt)
        members.add("assigned_agent", assignedAgent)
        members.add("delegation_chain", .array(delegationChain))
        members.add("execution_context", .object(executionContext))
        members.add("checkpoint_data", checkpointData ?? .null)
        members.add("last_completed_step", lastCompletedStep)
        members.add("estimated_cost", estimatedCost)
        members.add("actual_cost", actualCost)
        members.add("timeout_seconds", timeoutSeconds)
        members.add("plan_id", planId)
        members.add("plan_step_index", planStepIndex)
        members.add("metadata", .object(metadata))
        members.add("callback_url", callbackUrl)
        members.add("callback", callback ?? .null)
        members.add("retry_policy", retryPolicy ?? .null)
        members.add("attempt", attempt)
        members.add("result_summary", resultSummary)
        members.add("output", output ?? .null)
        members.add("error_code", errorCode)
        members.add("error_message", errorMessage)
        members.add("cancel_requested", cancelRequested ?? .null)
        members.add("pause_requested", pauseRequested)
        members.add("claimed_by", claimedBy)
        members.add("lease_expires_at", leaseExpiresAt)
        members.add("ttft_ns", ttftNs)
        members.add("total_duration_ns", totalDurationNs)
        members.add("created_by", createdBy)
        members.add("created_at", createdAt)
        members.add("updated_at", updatedAt)
        members.add("started_at", startedAt)
        members.add("finished_at", finishedAt)
        members.add("version", version)
        members.add("idempotency_key", idempotencyKey)
        members.add("queue", queue)
        members.add("kind", kind)
        members.add("args", .object(args))
    }
}

extension JobRun: WireObject {
    /// One run (SPEC 2.3).
    public func members<Members: WireMembers>(into members: inout Members) {
        members.add("id", id)
        members.add("job_id", jobId)
        members.add("run_number", runNumber)
        members.add("attempt", attempt)
        members.add("scheduled_for", scheduledFor)
        members.add("started_at", startedAt)
        members.add("finished_at", finishedAt)
        members.add("status", status.rawValue)
        members.add("error_code", errorCode)
        members.add("error_message", errorMessage)
        members.add("actual_cost", actualCost)
        members.add("result_summary", resultSummary)
        members.add("instance_id", instanceId)
        members.add("claimed_by", claimedBy)
    }
}

extension HeartbeatReply: WireEncodable {
    /// `{status, lease_expires_at, cancel_requested, pause_requested}`.
    public var wire: JSONValue {
        .object(["status": .string(status.rawValue), "lease_expires_at": leaseExpiresAt.wire,
                 "cancel_requested": cancelRequested ?? .null, "pause_requested": .bool(pauseRequested)])
    }
}

extension LinkedTask: WireEncodable {
    /// `{task_id, relationship_type, metadata, title, status, linked_at}`.
    public var wire: JSONValue {
        .object(["task_id": taskId.wire, "relationship_type": .string(relationship), "metadata": metadata,
                 "title": .string(title), "status": .string(status.rawValue), "linked_at": linkedAt.wire])
    }
}

extension Budget: WireEncodable {
    /// `{tenant_id, limit, period}`.
    public var wire: JSONValue {
        .object(["tenant_id": .string(tenantId), "limit": .string(limit.description), "period": .string(period.rawValue)])
    }
}
