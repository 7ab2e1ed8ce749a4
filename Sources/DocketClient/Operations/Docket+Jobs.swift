import DocketCore
import Foundation

extension Docket {
    /// The job operations (`job.*`).
    public var jobs: Jobs { Jobs(docket: self) }

    public struct Jobs: Sendable {
        let docket: Docket

        private func ref(_ id: UUID, _ expectedVersion: Int64? = nil) -> CallArguments {
            var fields = CallArguments(["job_id": id.json])
            fields["expected_version"] = expectedVersion.map { .number(Double($0)) }
            return fields
        }

        private func job(_ op: ServiceOperation, _ fields: CallArguments) async throws -> Job {
            try await docket.call(op, fields.fields, as: Job.self)
        }

        public func create(_ job: NewJob) async throws -> Job {
            try await docket.call(.jobCreate, job.arguments, as: Job.self)
        }

        /// Creates up to 1,000 jobs in one call; the answer is in input order.
        public func createMany(_ jobs: [NewJob], tenantId: String? = nil) async throws -> [Job] {
            var fields = CallArguments(["jobs": .array(jobs.map { .object($0.arguments) })])
            fields["tenant_id"] = tenantId.map(JSONValue.string)
            return try await docket.call(.jobCreateMany, fields.fields, member: "jobs", as: [Job].self)
        }

        public func get(_ id: UUID) async throws -> Job { try await job(.jobGet, ref(id)) }

        public func update(_ id: UUID, _ changes: JobChanges, expectedVersion: Int64? = nil) async throws -> Job {
            var fields = ref(id, expectedVersion)
            fields.merge(changes.arguments)
            return try await job(.jobUpdate, fields)
        }

        public func delete(_ id: UUID) async throws {
            try await docket.call(.jobDelete, ref(id).fields)
        }

        public func list(_ query: JobQuery = JobQuery(), page: PageQuery = PageQuery()) async throws -> Page<Job> {
            var fields = CallArguments(query.arguments)
            fields.merge(page.arguments)
            return try await docket.call(.jobList, fields.fields, as: Page<Job>.self)
        }

        /// Gives a draft job its schedule (or replaces one).
        public func schedule(_ id: UUID, _ schedule: JSONValue, expectedVersion: Int64? = nil) async throws -> Job {
            var fields = ref(id, expectedVersion)
            fields["schedule"] = schedule
            return try await job(.jobSchedule, fields)
        }

        public func start(_ id: UUID, expectedVersion: Int64? = nil) async throws -> Job {
            try await job(.jobStart, ref(id, expectedVersion))
        }

        public func complete(_ id: UUID, output: JSONValue? = nil, actualCost: Money? = nil, resultSummary: String? = nil,
                             expectedVersion: Int64? = nil) async throws -> Job {
            var fields = ref(id, expectedVersion)
            fields["output"] = output
            fields["actual_cost"] = actualCost.map { .string($0.description) }
            fields["result_summary"] = resultSummary.map(JSONValue.string)
            return try await job(.jobComplete, fields)
        }

        public func fail(_ id: UUID, code: String? = nil, message: String? = nil, actualCost: Money? = nil, output: JSONValue? = nil,
                         expectedVersion: Int64? = nil) async throws -> Job {
            var fields = ref(id, expectedVersion)
            fields["error_code"] = code.map(JSONValue.string)
            fields["error_message"] = message.map(JSONValue.string)
            fields["actual_cost"] = actualCost.map { .string($0.description) }
            fields["output"] = output
            return try await job(.jobFail, fields)
        }

        /// `graceful` (the default) asks a running job's worker to stop; `hard` cancels now.
        public func cancel(_ id: UUID, reason: String? = nil, mode: StopMode = .graceful, expectedVersion: Int64? = nil) async throws -> Job {
            var fields = ref(id, expectedVersion)
            fields["reason"] = reason.map(JSONValue.string)
            fields["mode"] = .string(mode.rawValue)
            return try await job(.jobCancel, fields)
        }

        public func retry(_ id: UUID, expectedVersion: Int64? = nil) async throws -> Job { try await job(.jobRetry, ref(id, expectedVersion)) }

        /// `graceful` (the default) asks the worker to checkpoint and pause; `hard` pauses now.
        public func pause(_ id: UUID, mode: StopMode = .graceful, expectedVersion: Int64? = nil) async throws -> Job {
            var fields = ref(id, expectedVersion)
            fields["mode"] = .string(mode.rawValue)
            return try await job(.jobPause, fields)
        }

        public func resume(_ id: UUID, expectedVersion: Int64? = nil) async throws -> Job { try await job(.jobResume, ref(id, expectedVersion)) }

        /// Saves progress: a resumed (or retried) run reads it back from `checkpoint_data`.
        public func checkpoint(_ id: UUID, step: Int, stepName: String? = nil, state: JSONValue? = nil,
                               executionContext: [String: JSONValue]? = nil) async throws -> Job {
            var fields = ref(id)
            fields["step_index"] = step.json
            fields["step_name"] = stepName.map(JSONValue.string)
            fields["state"] = state
            fields["execution_context"] = executionContext.map(JSONValue.object)
            return try await job(.jobCheckpoint, fields)
        }

        public func assignAgent(_ id: UUID, agent: String, reason: String? = nil, expectedVersion: Int64? = nil) async throws -> Job {
            var fields = ref(id, expectedVersion)
            fields["agent"] = .string(agent)
            fields["reason"] = reason.map(JSONValue.string)
            return try await job(.jobAssignAgent, fields)
        }

        public func linkTask(_ id: UUID, task: UUID, relationship: TaskRelationship = .step,
                             metadata: [String: JSONValue]? = nil) async throws -> Job {
            var fields = ref(id)
            fields["task_id"] = task.json
            fields["relationship_type"] = .string(relationship.rawValue)
            fields["metadata"] = metadata.map(JSONValue.object)
            return try await job(.jobLinkTask, fields)
        }

        public func unlinkTask(_ id: UUID, task: UUID) async throws -> Job {
            var fields = ref(id)
            fields["task_id"] = task.json
            return try await job(.jobUnlinkTask, fields)
        }

        public func linkedTasks(_ id: UUID) async throws -> [LinkedTask] {
            try await docket.call(.jobLinkedTasks, ref(id).fields, as: [LinkedTask].self)
        }

        /// Scheduled jobs, oldest due first.
        public func pending(page: PageQuery = PageQuery(), tenantId: String? = nil) async throws -> Page<Job> {
            try await docket.call(.jobPending, paged(page, tenantId), as: Page<Job>.self)
        }

        public func running(page: PageQuery = PageQuery(), tenantId: String? = nil) async throws -> Page<Job> {
            try await docket.call(.jobRunning, paged(page, tenantId), as: Page<Job>.self)
        }

        /// The job's runs, oldest first.
        public func history(_ id: UUID) async throws -> [Run] { try await docket.call(.jobHistory, ref(id).fields, as: [Run].self) }

        /// Takes up to `limit` due jobs of these queues and kinds, leased to `agent` for `leaseSeconds`.
        public func claim(limit: Int = 1, queues: [String]? = nil, kinds: [String]? = nil, agent: String? = nil,
                          leaseSeconds: Int? = nil, tenantId: String? = nil) async throws -> [Job] {
            var fields = CallArguments(["limit": limit.json])
            fields["queues"] = queues?.json
            fields["kinds"] = kinds?.json
            fields["agent"] = agent.map(JSONValue.string)
            fields["lease_seconds"] = leaseSeconds?.json
            fields["tenant_id"] = tenantId.map(JSONValue.string)
            return try await docket.call(.jobClaim, fields.fields, as: [Job].self)
        }

        /// Extends the lease; the answer says whether a cancel or a pause is waiting.
        public func heartbeat(_ id: UUID, executionContext: [String: JSONValue]? = nil, leaseSeconds: Int? = nil) async throws -> Heartbeat {
            var fields = ref(id)
            fields["execution_context"] = executionContext.map(JSONValue.object)
            fields["lease_seconds"] = leaseSeconds?.json
            return try await docket.call(.jobHeartbeat, fields.fields, as: Heartbeat.self)
        }

        public func recordMetrics(_ id: UUID, ttftNs: Int64? = nil, totalDurationNs: Int64? = nil) async throws -> Job {
            var fields = ref(id)
            fields["ttft_ns"] = ttftNs.map { .number(Double($0)) }
            fields["total_duration_ns"] = totalDurationNs.map { .number(Double($0)) }
            return try await job(.jobRecordMetrics, fields)
        }

        private func paged(_ page: PageQuery, _ tenantId: String?) -> [String: JSONValue] {
            var fields = CallArguments(page.arguments)
            fields["tenant_id"] = tenantId.map(JSONValue.string)
            return fields.fields
        }
    }
}
