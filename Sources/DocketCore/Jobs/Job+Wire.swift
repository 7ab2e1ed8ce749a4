import Foundation

extension Job {
    /// The job as the protocol shows it (SPEC 2.2 wire names).
    public var json: JSONValue {
        var fields: [String: JSONValue] = [
            "id": .string(id.uuidString.lowercased()),
            "tenant_id": .string(tenantId),
            "name": .string(name),
            "description": description.json,
            "status": .string(status.rawValue),
            "priority": .number(Double(priority)),
            "schedule": schedule ?? .null,
            "next_run_at": nextRunAt.json,
            "assigned_agent": assignedAgent.json,
            "delegation_chain": .array(delegationChain),
            "execution_context": .object(executionContext),
            "checkpoint_data": checkpointData ?? .null,
            "last_completed_step": lastCompletedStep.map { .number(Double($0)) } ?? .null,
            "estimated_cost": estimatedCost.map { .string($0.description) } ?? .null,
            "actual_cost": actualCost.map { .string($0.description) } ?? .null,
            "timeout_seconds": timeoutSeconds.map { .number(Double($0)) } ?? .null,
            "plan_id": planId.json,
            "plan_step_index": planStepIndex.map { .number(Double($0)) } ?? .null,
            "metadata": .object(metadata),
            "callback_url": callbackUrl.json,
            "callback": callback ?? .null,
            "retry_policy": retryPolicy ?? .null,
            "attempt": .number(Double(attempt)),
            "result_summary": resultSummary.json,
            "output": output ?? .null,
            "error_code": errorCode.json,
            "error_message": errorMessage.json,
            "cancel_requested": cancelRequested ?? .null,
            "pause_requested": .bool(pauseRequested),
            "claimed_by": claimedBy.json,
            "lease_expires_at": leaseExpiresAt.json,
            "ttft_ns": ttftNs.map { .number(Double($0)) } ?? .null,
            "total_duration_ns": totalDurationNs.map { .number(Double($0)) } ?? .null,
            "created_by": .string(createdBy),
            "created_at": .string(Timestamp.format(createdAt)),
            "updated_at": .string(Timestamp.format(updatedAt)),
            "started_at": startedAt.json,
            "finished_at": finishedAt.json,
            "version": .number(Double(version)),
        ]
        fields["idempotency_key"] = idempotencyKey.json
        return .object(fields)
    }
}

extension Optional where Wrapped == String {
    var json: JSONValue { map(JSONValue.string) ?? .null }
}

extension Optional where Wrapped == Date {
    var json: JSONValue { map { .string(Timestamp.format($0)) } ?? .null }
}
