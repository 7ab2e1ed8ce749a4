import DocketCore
import DocketPostgres
import Foundation

extension TaskService {
    /// `task.get`.
    public func get(_ id: UUID, by actor: Principal) async throws -> WorkTask {
        try await store.read(id, by: actor, .taskGet)
    }

    /// `task.list`: one page of the tenant's tasks, filtered, highest priority first, then oldest.
    public func list(_ filter: TaskFilter, page: PageRequest, tenant requested: String? = nil, by actor: Principal,
                     operation: ServiceOperation = .taskList) async throws -> Page<WorkTask> {
        try await store.inTenant(requested, by: actor, operation, write: false) { tx, tenant in
            try await tx.tasks.list(tenant: tenant, filter: filter, page: page)
        }
    }

    /// `task.subtasks`: the direct subtasks of a task.
    public func subtasks(_ id: UUID, by actor: Principal) async throws -> [WorkTask] {
        _ = try await store.read(id, by: actor, .taskSubtasks)
        return try await database.read { connection in try await TaskQueries(connection, logger: logger).children(of: id) }
    }

    /// `task.by_job`: the tasks of a job, by `job_id` or by link.
    public func byJob(_ job: UUID, by actor: Principal) async throws -> [WorkTask] {
        try Authorizer.check(actor, .taskByJob)
        return try await database.read { connection in
            guard let found = try await JobQueries(connection, logger: logger).find(job), actor.reaches(tenant: found.tenantId) else {
                throw DocketError(.jobNotFound, "job \(job.uuidString.lowercased()) does not exist")
            }
            try Authorizer.check(actor, .taskByJob, tenant: found.tenantId)
            return try await TaskQueries(connection, logger: logger).tasks(ofJob: job)
        }
    }

    /// `task.pending`: pending tasks.
    public func pending(page: PageRequest, tenant: String? = nil, by actor: Principal) async throws -> Page<WorkTask> {
        var filter = TaskFilter()
        filter.statuses = [.pending]
        return try await list(filter, page: page, tenant: tenant, by: actor, operation: .taskPending)
    }

    /// `task.in_progress`: tasks being worked on.
    public func inProgress(page: PageRequest, tenant: String? = nil, by actor: Principal) async throws -> Page<WorkTask> {
        var filter = TaskFilter()
        filter.statuses = [.inProgress]
        return try await list(filter, page: page, tenant: tenant, by: actor, operation: .taskInProgress)
    }
}
