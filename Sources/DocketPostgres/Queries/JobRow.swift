import DocketCore
import Foundation
import PostgresNIO

/// Reading a `docket.jobs` row into a `Job`.
enum JobRow {
    /// The select list every job query uses.
    static let columns = """
        id, tenant_id, name, description, status, priority, schedule, next_run_at, current_slot, run_count,
        assigned_agent, delegation_chain, execution_context, checkpoint_data, last_completed_step, estimated_cost,
        actual_cost, timeout_seconds, deadline_at, plan_id, plan_step_index, metadata, callback_url, callback,
        callback_due_at, retry_policy, attempt, retry_at, result_summary, output, error_code, error_message,
        cancel_requested, cancel_deadline_at, pause_requested, claimed_by, lease_expires_at, ttft_ns,
        total_duration_ns, idempotency_key, created_by, created_at, updated_at, started_at, finished_at, version
        """

    static func decode(_ row: PostgresRow) throws -> Job {
        let r = row.makeRandomAccess()
        var job = Job(id: try r.value("id"), tenantId: try r.value("tenant_id"), name: try r.value("name"),
                      createdBy: try r.value("created_by"), now: try r.value("created_at"))
        job.description = try r.value("description")
        let status: String = try r.value("status")
        guard let parsed = JobStatus(rawValue: status) else {
            throw DocketError(.internal, "job \(job.id) has unknown status \(status)")
        }
        job.status = parsed
        job.priority = Int(try r.value("priority", as: Int16.self))
        job.schedule = try r.value("schedule")
        job.nextRunAt = try r.value("next_run_at")
        job.currentSlot = try r.value("current_slot")
        job.runCount = Int(try r.value("run_count", as: Int32.self))
        job.assignedAgent = try r.value("assigned_agent")
        job.delegationChain = try r.value("delegation_chain", as: JSONValue.self).arrayValue ?? []
        job.executionContext = try r.object("execution_context")
        job.checkpointData = try r.value("checkpoint_data")
        job.lastCompletedStep = try r.value("last_completed_step", as: Int32?.self).map(Int.init)
        job.estimatedCost = try r.money("estimated_cost")
        job.actualCost = try r.money("actual_cost")
        job.timeoutSeconds = try r.value("timeout_seconds", as: Int32?.self).map(Int.init)
        job.deadlineAt = try r.value("deadline_at")
        job.planId = try r.value("plan_id")
        job.planStepIndex = try r.value("plan_step_index", as: Int32?.self).map(Int.init)
        job.metadata = try r.object("metadata")
        job.callbackUrl = try r.value("callback_url")
        job.callback = try r.value("callback")
        job.callbackDueAt = try r.value("callback_due_at")
        job.retryPolicy = try r.value("retry_policy")
        job.attempt = Int(try r.value("attempt", as: Int32.self))
        job.retryAt = try r.value("retry_at")
        job.resultSummary = try r.value("result_summary")
        job.output = try r.value("output")
        job.errorCode = try r.value("error_code")
        job.errorMessage = try r.value("error_message")
        job.cancelRequested = try r.value("cancel_requested")
        job.cancelDeadlineAt = try r.value("cancel_deadline_at")
        job.pauseRequested = try r.value("pause_requested")
        job.claimedBy = try r.value("claimed_by")
        job.leaseExpiresAt = try r.value("lease_expires_at")
        job.ttftNs = try r.value("ttft_ns")
        job.totalDurationNs = try r.value("total_duration_ns")
        job.idempotencyKey = try r.value("idempotency_key")
        job.updatedAt = try r.value("updated_at")
        job.startedAt = try r.value("started_at")
        job.finishedAt = try r.value("finished_at")
        job.version = try r.value("version")
        return job
    }
}

extension JSONValue {
    var arrayValue: [JSONValue]? {
        if case .array(let items) = self { return items }
        return nil
    }
}
