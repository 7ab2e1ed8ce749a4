import DocketCore
import DocketProtocol
import DocketServices
import Foundation

extension Dispatcher {
    func handleJob(_ op: ServiceOperation, _ a: Arguments, _ actor: Principal) async throws -> JSONValue {
        switch op {
        case .jobCreate:
            return try await jobs.create(a, by: actor).json
        case .jobGet:
            return try await jobs.get(try a.uuid("job_id"), by: actor).json
        case .jobUpdate:
            return try await jobs.update(try a.uuid("job_id"), a, by: actor).json
        case .jobDelete:
            try await jobs.delete(try a.uuid("job_id"), by: actor)
            return .object(["deleted": .bool(true)])
        case .jobList:
            return try await jobs.list(try JobFilter(a), page: try PageRequest(a), tenant: try a.tenant, by: actor).json
        case .jobSchedule:
            guard let schedule = a.fields["schedule"] else { throw DocketError.schedule(field: "schedule", "is required") }
            return try await jobs.schedule(try a.uuid("job_id"), schedule: schedule, expectedVersion: try a.expectedVersion, by: actor).json
        case .jobStart:
            return try await jobs.start(try a.uuid("job_id"), expectedVersion: try a.expectedVersion, by: actor).json
        case .jobComplete:
            let outcome = JobOutcome(
                success: try a.optionalBool("success") ?? true, resultSummary: try a.optionalString("result_summary"),
                actualCost: try a.optionalMoney("actual_cost"), output: try a.optionalJSON("output", maxBytes: FieldLimits.outputBytes),
                errorCode: try a.optionalString("error_code", maxLength: 200),
                errorMessage: try a.optionalString("error_message"))
            return try await jobs.complete(try a.uuid("job_id"), outcome, expectedVersion: try a.expectedVersion, by: actor).json
        case .jobFail:
            return try await jobs.fail(
                try a.uuid("job_id"), errorCode: try a.optionalString("error_code", maxLength: 200),
                errorMessage: try a.optionalString("error_message"), actualCost: try a.optionalMoney("actual_cost"),
                output: try a.optionalJSON("output", maxBytes: FieldLimits.outputBytes), expectedVersion: try a.expectedVersion, by: actor).json
        case .jobCancel:
            return try await jobs.cancel(
                try a.uuid("job_id"), reason: try a.optionalString("reason"),
                mode: try a.optionalEnum("mode", StopMode.self) ?? .graceful, expectedVersion: try a.expectedVersion, by: actor).json
        case .jobRetry:
            return try await jobs.retry(try a.uuid("job_id"), expectedVersion: try a.expectedVersion, by: actor).json
        case .jobPause:
            return try await jobs.pause(try a.uuid("job_id"), mode: try a.optionalEnum("mode", StopMode.self) ?? .graceful,
                                        expectedVersion: try a.expectedVersion, by: actor).json
        case .jobResume:
            return try await jobs.resume(try a.uuid("job_id"), expectedVersion: try a.expectedVersion, by: actor).json
        case .jobCheckpoint:
            guard let step = try a.optionalInt("step_index", range: 0...1_000_000) else {
                throw DocketError.validation(field: "step_index", "is required")
            }
            let checkpoint = Checkpoint(stepIndex: step, stepName: try a.optionalString("step_name", maxLength: 500),
                                        state: try a.optionalJSON("state", maxBytes: FieldLimits.contextBytes),
                                        executionContext: try a.optionalObject("execution_context", maxBytes: FieldLimits.contextBytes))
            return try await jobs.checkpoint(try a.uuid("job_id"), checkpoint, by: actor).json
        case .jobAssignAgent:
            let agent = try a.optionalString("agent", maxLength: 500) ?? (try a.optionalString("assigned_agent", maxLength: 500))
            guard let agent else { throw DocketError.validation(field: "agent", "is required") }
            return try await jobs.assignAgent(try a.uuid("job_id"), agent: agent, reason: try a.optionalString("reason"),
                                              expectedVersion: try a.expectedVersion, by: actor).json
        case .jobLinkTask:
            let role = try a.optionalEnum("relationship_type", TaskRelationship.self) ?? .step
            return try await jobs.linkTask(try a.uuid("job_id"), task: try a.uuid("task_id"), relationship: role,
                                           metadata: try a.optionalObject("metadata") ?? [:], by: actor).json
        case .jobUnlinkTask:
            return try await jobs.unlinkTask(try a.uuid("job_id"), task: try a.uuid("task_id"), by: actor).json
        case .jobLinkedTasks:
            return .array(try await jobs.linkedTasks(try a.uuid("job_id"), by: actor))
        case .jobPending:
            return try await jobs.pending(page: try PageRequest(a), tenant: try a.tenant, by: actor).json
        case .jobRunning:
            return try await jobs.running(page: try PageRequest(a), tenant: try a.tenant, by: actor).json
        case .jobHistory:
            return .array(try await jobs.history(try a.uuid("job_id"), by: actor).map(\.json))
        case .jobClaim:
            let claimed = try await jobs.claim(
                agent: try a.optionalString("agent", maxLength: 500), limit: try a.optionalInt("limit", range: 1...1000) ?? 1,
                leaseSeconds: try a.optionalInt("lease_seconds", range: 1...86_400), tenant: try a.tenant, by: actor)
            return .array(claimed.map(\.json))
        case .jobHeartbeat:
            return try await jobs.heartbeat(try a.uuid("job_id"), executionContext: try a.optionalObject("execution_context", maxBytes: FieldLimits.contextBytes),
                                            leaseSeconds: try a.optionalInt("lease_seconds", range: 1...86_400), by: actor).json
        case .jobRecordMetrics:
            return try await jobs.recordMetrics(
                try a.uuid("job_id"), ttftNs: try a.optionalInt("ttft_ns", range: 0...Int.max).map(Int64.init),
                totalDurationNs: try a.optionalInt("total_duration_ns", range: 0...Int.max).map(Int64.init), by: actor).json
        case .budgetSet:
            guard let limit = try a.optionalMoney("limit") else { throw DocketError.validation(field: "limit", "is required") }
            guard let period = try a.optionalEnum("period", Budget.Period.self) else {
                throw DocketError.validation(field: "period", "is required: day, month or total")
            }
            return try await jobs.setBudget(limit: limit, period: period, tenant: try a.tenant, by: actor).json
        case .budgetGet:
            let (budget, spent) = try await jobs.budget(tenant: try a.tenant, by: actor)
            guard case .object(var fields) = budget.json else { return budget.json }
            fields["spent"] = .string(spent.description)
            return .object(fields)
        default:
            throw DocketError(.unknownOp, "op \"\(op.rawValue)\" is not a job operation")
        }
    }
}
