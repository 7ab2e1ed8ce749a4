import DocketCore
import Foundation
import Logging
import PostgresNIO

/// Statements on `docket.tasks`.
public struct TaskQueries: Sendable {
    let connection: PostgresConnection
    let logger: Logger

    public init(_ connection: PostgresConnection, logger: Logger) {
        self.connection = connection
        self.logger = logger
    }

    public func insert(_ task: WorkTask) async throws {
        try await connection.query("""
            INSERT INTO docket.tasks (id, tenant_id, title, description, status, priority, owner_id, assignee_id,
                assignee_type, assigned_agent, execution_context, estimated_cost, timeout_seconds, parent_id, job_id,
                metadata, created_at, updated_at, version)
            VALUES (\(task.id), \(task.tenantId), \(task.title), \(task.description), \(task.status.rawValue),
                \(Int16(task.priority)), \(task.ownerId), \(task.assigneeId), \(task.assigneeType?.rawValue),
                \(task.assignedAgent), \(JSONValue.object(task.executionContext)), \(task.estimatedCost?.description)::numeric,
                \(task.timeoutSeconds.map(Int32.init)), \(task.parentId), \(task.jobId), \(JSONValue.object(task.metadata)),
                \(task.createdAt), \(task.updatedAt), \(task.version))
            """, logger: logger)
    }

    public func find(_ id: UUID, lock: Bool = false) async throws -> WorkTask? {
        let query: PostgresQuery = lock
            ? "SELECT \(unescaped: TaskRow.columns) FROM docket.tasks WHERE id = \(id) FOR UPDATE"
            : "SELECT \(unescaped: TaskRow.columns) FROM docket.tasks WHERE id = \(id)"
        return try await connection.query(query, logger: logger).collect().first.map(TaskRow.decode)
    }

    /// Writes every mutable column of `task` (the caller has locked the row and bumped `version`).
    public func update(_ task: WorkTask) async throws {
        try await connection.query("""
            UPDATE docket.tasks SET
                title = \(task.title), description = \(task.description), status = \(task.status.rawValue),
                priority = \(Int16(task.priority)), assignee_id = \(task.assigneeId),
                assignee_type = \(task.assigneeType?.rawValue), assigned_agent = \(task.assignedAgent),
                delegation_chain = \(JSONValue.array(task.delegationChain)),
                execution_context = \(JSONValue.object(task.executionContext)),
                estimated_cost = \(task.estimatedCost?.description)::numeric,
                actual_cost = \(task.actualCost?.description)::numeric,
                timeout_seconds = \(task.timeoutSeconds.map(Int32.init)), deadline_at = \(task.deadlineAt),
                job_id = \(task.jobId), completion_notes = \(task.completionNotes), cancel_reason = \(task.cancelReason),
                metadata = \(JSONValue.object(task.metadata)), updated_at = \(task.updatedAt),
                started_at = \(task.startedAt), completed_at = \(task.completedAt), version = \(task.version)
            WHERE id = \(task.id)
            """, logger: logger)
    }

    public func delete(_ id: UUID) async throws {
        try await connection.query("DELETE FROM docket.tasks WHERE id = \(id)", logger: logger)
    }

    /// Direct subtasks of a task, locked when `lock` is set, in list order.
    public func children(of parent: UUID, lock: Bool = false) async throws -> [WorkTask] {
        let query: PostgresQuery = lock
            ? "SELECT \(unescaped: TaskRow.columns) FROM docket.tasks WHERE parent_id = \(parent) ORDER BY priority DESC, created_at, id FOR UPDATE"
            : "SELECT \(unescaped: TaskRow.columns) FROM docket.tasks WHERE parent_id = \(parent) ORDER BY priority DESC, created_at, id"
        return try await connection.query(query, logger: logger).collect().map(TaskRow.decode)
    }

    /// Every open task of a job (its `job_id` tasks and its linked tasks), locked, in a stable order.
    public func openTasks(ofJob job: UUID) async throws -> [WorkTask] {
        try await connection.query("""
            SELECT \(unescaped: TaskRow.columns) FROM docket.tasks
            WHERE status IN ('pending', 'blocked', 'in_progress')
              AND (job_id = \(job) OR id IN (SELECT task_id FROM docket.job_tasks WHERE job_id = \(job)))
            ORDER BY id FOR UPDATE
            """, logger: logger).collect().map(TaskRow.decode)
    }

    /// A job's tasks: those with its `job_id` and those linked to it.
    public func tasks(ofJob job: UUID) async throws -> [WorkTask] {
        try await connection.query("""
            SELECT \(unescaped: TaskRow.columns) FROM docket.tasks
            WHERE job_id = \(job) OR id IN (SELECT task_id FROM docket.job_tasks WHERE job_id = \(job))
            ORDER BY priority DESC, created_at, id
            """, logger: logger).collect().map(TaskRow.decode)
    }

    /// Whether the job exists in the tenant (for `job_id` on create).
    public func jobExists(_ job: UUID, tenant: String) async throws -> Bool {
        !(try await connection.query(
            "SELECT 1 FROM docket.jobs WHERE id = \(job) AND tenant_id = \(tenant)", logger: logger).collect().isEmpty)
    }
}
