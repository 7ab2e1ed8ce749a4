import DocketCore
import Foundation

extension Docket {
    /// The settable fields of a task (`task.create`, `task.update`); nil leaves a field alone.
    public struct TaskFields: Sendable, Hashable {
        public var title: String?
        public var description: String?
        public var priority: JSONValue?
        public var assigneeId: String?
        /// `user` or `agent`.
        public var assigneeType: String?
        public var assignedAgent: String?
        public var executionContext: [String: JSONValue]?
        public var estimatedCost: Money?
        public var timeoutSeconds: Int?
        public var metadata: [String: JSONValue]?

        public init(title: String? = nil) { self.title = title }

        var arguments: [String: JSONValue] {
            var fields = CallArguments()
            fields["title"] = title.map(JSONValue.string)
            fields["description"] = description.map(JSONValue.string)
            fields["priority"] = priority
            fields["assignee_id"] = assigneeId.map(JSONValue.string)
            fields["assignee_type"] = assigneeType.map(JSONValue.string)
            fields["assigned_agent"] = assignedAgent.map(JSONValue.string)
            fields["execution_context"] = executionContext.map(JSONValue.object)
            fields["estimated_cost"] = estimatedCost.map { .string($0.description) }
            fields["timeout_seconds"] = timeoutSeconds?.json
            fields["metadata"] = metadata.map(JSONValue.object)
            return fields.fields
        }
    }

    /// `task.list`'s filters.
    public struct TaskQuery: Sendable, Hashable {
        public var status: [TaskStatus] = []
        public var jobId: UUID?
        public var assigneeId: String?
        public var parentId: UUID?
        public var priorityMin: Int?
        public var priorityMax: Int?
        public var tenantId: String?

        public init(status: [TaskStatus] = []) { self.status = status }

        var arguments: [String: JSONValue] {
            var fields = CallArguments()
            if !status.isEmpty { fields["status"] = status.map(\.rawValue).json }
            fields["job_id"] = jobId?.json
            fields["assignee_id"] = assigneeId.map(JSONValue.string)
            fields["parent_id"] = parentId?.json
            fields["priority_min"] = priorityMin?.json
            fields["priority_max"] = priorityMax?.json
            fields["tenant_id"] = tenantId.map(JSONValue.string)
            return fields.fields
        }
    }

    /// `task.dependencies_complete`'s answer.
    public struct DependencyCheck: Codable, Sendable, Hashable {
        public var complete: Bool
        public var unmet: [JSONValue]
    }

    /// The task operations (`task.*`).
    public var tasks: Tasks { Tasks(docket: self) }

    public struct Tasks: Sendable {
        let docket: Docket

        private func ref(_ id: UUID, _ expectedVersion: Int64? = nil) -> CallArguments {
            var fields = CallArguments(["task_id": id.json])
            fields["expected_version"] = expectedVersion.map { .number(Double($0)) }
            return fields
        }

        private func task(_ op: ServiceOperation, _ fields: CallArguments) async throws -> WorkTask {
            try await docket.call(op, fields.fields, as: WorkTask.self)
        }

        public func create(_ fields: TaskFields, jobId: UUID? = nil, parentId: UUID? = nil, tenantId: String? = nil) async throws -> WorkTask {
            var arguments = CallArguments(fields.arguments)
            arguments["job_id"] = jobId?.json
            arguments["parent_id"] = parentId?.json
            arguments["tenant_id"] = tenantId.map(JSONValue.string)
            return try await task(.taskCreate, arguments)
        }

        public func get(_ id: UUID) async throws -> WorkTask { try await task(.taskGet, ref(id)) }

        public func update(_ id: UUID, _ fields: TaskFields, expectedVersion: Int64? = nil) async throws -> WorkTask {
            var arguments = ref(id, expectedVersion)
            arguments.merge(fields.arguments)
            return try await task(.taskUpdate, arguments)
        }

        public func delete(_ id: UUID, cascade: Bool = false) async throws {
            var arguments = ref(id)
            arguments["cascade"] = .bool(cascade)
            try await docket.call(.taskDelete, arguments.fields)
        }

        public func list(_ query: TaskQuery = TaskQuery(), page: PageQuery = PageQuery()) async throws -> Page<WorkTask> {
            var arguments = CallArguments(query.arguments)
            arguments.merge(page.arguments)
            return try await docket.call(.taskList, arguments.fields, as: Page<WorkTask>.self)
        }

        public func start(_ id: UUID, expectedVersion: Int64? = nil) async throws -> WorkTask { try await task(.taskStart, ref(id, expectedVersion)) }

        public func complete(_ id: UUID, notes: String? = nil, actualCost: Money? = nil, expectedVersion: Int64? = nil) async throws -> WorkTask {
            var arguments = ref(id, expectedVersion)
            arguments["completion_notes"] = notes.map(JSONValue.string)
            arguments["actual_cost"] = actualCost.map { .string($0.description) }
            return try await task(.taskComplete, arguments)
        }

        public func cancel(_ id: UUID, reason: String? = nil, cascade: Bool = false, expectedVersion: Int64? = nil) async throws -> WorkTask {
            var arguments = ref(id, expectedVersion)
            arguments["reason"] = reason.map(JSONValue.string)
            arguments["cascade"] = .bool(cascade)
            return try await task(.taskCancel, arguments)
        }

        public func reopen(_ id: UUID, expectedVersion: Int64? = nil) async throws -> WorkTask { try await task(.taskReopen, ref(id, expectedVersion)) }

        public func assign(_ id: UUID, to assignee: String, type: String = "agent", expectedVersion: Int64? = nil) async throws -> WorkTask {
            var arguments = ref(id, expectedVersion)
            arguments["assignee_id"] = .string(assignee)
            arguments["assignee_type"] = .string(type)
            return try await task(.taskAssign, arguments)
        }

        public func createSubtask(of parent: UUID, _ fields: TaskFields, tenantId: String? = nil) async throws -> WorkTask {
            var arguments = CallArguments(fields.arguments)
            arguments["parent_id"] = parent.json
            arguments["tenant_id"] = tenantId.map(JSONValue.string)
            return try await task(.taskCreateSubtask, arguments)
        }

        public func subtasks(_ id: UUID) async throws -> [WorkTask] { try await docket.call(.taskSubtasks, ref(id).fields, as: [WorkTask].self) }

        /// `type`: `finish_to_start` (the default), `start_to_start`, `finish_to_finish`, `follows`.
        public func addDependency(_ id: UUID, dependsOn: UUID, type: String? = nil) async throws -> WorkTask {
            var arguments = ref(id)
            arguments["depends_on_id"] = dependsOn.json
            arguments["dependency_type"] = type.map(JSONValue.string)
            return try await task(.taskAddDependency, arguments)
        }

        public func removeDependency(_ id: UUID, dependsOn: UUID) async throws -> WorkTask {
            var arguments = ref(id)
            arguments["depends_on_id"] = dependsOn.json
            return try await task(.taskRemoveDependency, arguments)
        }

        public func dependencies(_ id: UUID) async throws -> [Dependency] {
            try await docket.call(.taskDependencies, ref(id).fields, as: [Dependency].self)
        }

        public func dependenciesComplete(_ id: UUID) async throws -> DependencyCheck {
            try await docket.call(.taskDependenciesComplete, ref(id).fields, as: DependencyCheck.self)
        }

        /// Merges `updates` into the task's execution context (deeply), or replaces it when `merge` is false.
        public func updateContext(_ id: UUID, _ updates: [String: JSONValue], merge: Bool = true) async throws -> WorkTask {
            var arguments = ref(id)
            arguments["context_updates"] = .object(updates)
            arguments["merge"] = .bool(merge)
            return try await task(.taskUpdateContext, arguments)
        }

        public func setPriority(_ id: UUID, _ priority: JSONValue) async throws -> WorkTask {
            var arguments = ref(id)
            arguments["priority"] = priority
            return try await task(.taskSetPriority, arguments)
        }

        /// The job's tasks and those linked to it.
        public func byJob(_ jobId: UUID) async throws -> [WorkTask] {
            try await docket.call(.taskByJob, ["job_id": jobId.json], as: [WorkTask].self)
        }

        public func pending(page: PageQuery = PageQuery(), tenantId: String? = nil) async throws -> Page<WorkTask> {
            try await docket.call(.taskPending, paged(page, tenantId), as: Page<WorkTask>.self)
        }

        public func inProgress(page: PageQuery = PageQuery(), tenantId: String? = nil) async throws -> Page<WorkTask> {
            try await docket.call(.taskInProgress, paged(page, tenantId), as: Page<WorkTask>.self)
        }

        private func paged(_ page: PageQuery, _ tenantId: String?) -> [String: JSONValue] {
            var arguments = CallArguments(page.arguments)
            arguments["tenant_id"] = tenantId.map(JSONValue.string)
            return arguments.fields
        }
    }
}
