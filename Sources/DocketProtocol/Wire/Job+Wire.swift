import DocketCore

extension Job: WireEncodable {
    /// The job of SPEC 2.2.
    public var wire: JSONValue {
        .object([
            "id": id.wire, "tenant_id": .string(tenantId), "name": .string(name), "description": description.wire,
            "status": .string(status.rawValue), "priority": priority.wire, "schedule": schedule ?? .null,
            "next_run_at": nextRunAt.wire, "assigned_agent": assignedAgent.wire, "delegation_chain": .array(delegationChain),
            "execution_context": .object(executionContext), "checkpoint_data": checkpointData ?? .null,
            "last_completed_step": lastCompletedStep.wire, "estimated_cost": estimatedCost.wire,
            "actual_cost": actualCost.wire, "timeout_seconds": timeoutSeconds.wire, "plan_id": planId.wire,
            "plan_step_index": planStepIndex.wire, "metadata": .object(metadata), "callback_url": callbackUrl.wire,
            "callback": callback ?? .null, "retry_policy": retryPolicy ?? .null, "attempt": attempt.wire,
            "result_summary": resultSummary.wire, "output": output ?? .null, "error_code": errorCode.wire,
            "error_message": errorMessage.wire, "cancel_requested": cancelRequested ?? .null,
            "pause_requested": .bool(pauseRequested), "claimed_by": claimedBy.wire, "lease_expires_at": leaseExpiresAt.wire,
            "ttft_ns": ttftNs.wire, "total_duration_ns": totalDurationNs.wire, "created_by": .string(createdBy),
            "created_at": createdAt.wire, "updated_at": updatedAt.wire, "started_at": startedAt.wire,
            "finished_at": finishedAt.wire, "version": version.wire, "idempotency_key": idempotencyKey.wire,
            "queue": .string(queue), "kind": kind.wire, "args": .object(args),
        ])
    }
}

extension JobRun: WireEncodable {
    /// One run (SPEC 2.3).
    public var wire: JSONValue {
        .object([
            "id": id.wire, "job_id": jobId.wire, "run_number": runNumber.wire, "attempt": attempt.wire,
            "scheduled_for": scheduledFor.wire, "started_at": startedAt.wire, "finished_at": finishedAt.wire,
            "status": .string(status.rawValue), "error_code": errorCode.wire, "error_message": errorMessage.wire,
            "actual_cost": actualCost.wire, "result_summary": resultSummary.wire, "instance_id": instanceId.wire,
            "claimed_by": claimedBy.wire,
        ])
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
