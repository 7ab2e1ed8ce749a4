import DocketCore
import DocketPostgres
import Foundation

extension JobService {
    /// `job.get`.
    public func get(_ id: UUID, by actor: Principal) async throws -> Job {
        try await store.read(id, by: actor, .jobGet)
    }

    /// `job.list`: one page of the tenant's jobs, filtered, in `(created_at, id)` order.
    public func list(_ filter: JobFilter, page: PageRequest, tenant requested: String? = nil, by actor: Principal,
                     operation: ServiceOperation = .jobList) async throws -> Page<Job> {
        try await store.inTenant(requested, by: actor, operation, write: false) { tx, tenant in
            try await tx.jobs.list(tenant: tenant, filter: filter, page: page)
        }
    }

    /// `job.pending`: scheduled jobs.
    public func pending(page: PageRequest, tenant: String? = nil, by actor: Principal) async throws -> Page<Job> {
        var filter = JobFilter()
        filter.statuses = [.scheduled]
        return try await list(filter, page: page, tenant: tenant, by: actor, operation: .jobPending)
    }

    /// `job.running`: running jobs.
    public func running(page: PageRequest, tenant: String? = nil, by actor: Principal) async throws -> Page<Job> {
        var filter = JobFilter()
        filter.statuses = [.running]
        return try await list(filter, page: page, tenant: tenant, by: actor, operation: .jobRunning)
    }

    /// `job.history`: every run of the job, oldest first.
    public func history(_ id: UUID, limit: Int = PageRequest.maxLimit, by actor: Principal) async throws -> [JobRun] {
        _ = try await store.read(id, by: actor, .jobHistory)
        return try await database.read { connection in
            try await JobRunQueries(connection, logger: logger).history(job: id, limit: limit)
        }
    }

    /// `job.linked_tasks`: the job's tasks with each link's role.
    public func linkedTasks(_ id: UUID, by actor: Principal) async throws -> [LinkedTask] {
        _ = try await store.read(id, by: actor, .jobLinkedTasks)
        return try await database.read { connection in
            try await JobTaskQueries(connection, logger: logger).linked(job: id)
        }
    }
}
