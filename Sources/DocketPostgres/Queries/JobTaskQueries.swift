import DocketCore
import Foundation
import Logging
import PostgresNIO

/// Statements on `docket.job_tasks`, the links between jobs and tasks.
public struct JobTaskQueries: Sendable {
    let connection: PostgresConnection
    let logger: Logger

    public init(_ connection: PostgresConnection, logger: Logger) {
        self.connection = connection
        self.logger = logger
    }

    /// Links a task to a job, or updates the link's role and metadata; false when the task is not in the tenant.
    public func link(job: UUID, task: UUID, tenant: String, relationship: String, metadata: [String: JSONValue]) async throws -> Bool {
        let rows = try await connection.query("""
            INSERT INTO docket.job_tasks (job_id, task_id, tenant_id, relationship_type, metadata)
            SELECT \(job), id, tenant_id, \(relationship), \(JSONValue.object(metadata))
            FROM docket.tasks WHERE id = \(task) AND tenant_id = \(tenant)
            ON CONFLICT (job_id, task_id) DO UPDATE
                SET relationship_type = EXCLUDED.relationship_type, metadata = EXCLUDED.metadata
            RETURNING task_id
            """, logger: logger).collect()
        return !rows.isEmpty
    }

    /// Removes a link; false when there was none.
    public func unlink(job: UUID, task: UUID) async throws -> Bool {
        let rows = try await connection.query(
            "DELETE FROM docket.job_tasks WHERE job_id = \(job) AND task_id = \(task) RETURNING task_id",
            logger: logger).collect()
        return !rows.isEmpty
    }

    /// The tasks linked to a job, with each link's role.
    public func linked(job: UUID) async throws -> [LinkedTask] {
        let rows = try await connection.query("""
            SELECT l.task_id, l.relationship_type, l.metadata, t.title, t.status, l.created_at
            FROM docket.job_tasks l JOIN docket.tasks t ON t.id = l.task_id
            WHERE l.job_id = \(job) ORDER BY l.created_at, l.task_id
            """, logger: logger).collect()
        return try rows.map { row in
            let (task, relationship, metadata, title, status, at) =
                try row.decode((UUID, String, JSONValue, String, String, Date).self)
            guard let status = TaskStatus(rawValue: status) else { throw DocketError(.internal, "task \(task) has unknown status \(status)") }
            return LinkedTask(taskId: task, relationship: relationship, metadata: metadata, title: title, status: status, linkedAt: at)
        }
    }

    /// Linked tasks of `relationship` that are not completed (the gates of start and complete).
    public func openTasks(job: UUID, relationship: String) async throws -> [UUID] {
        try await connection.query("""
            SELECT l.task_id FROM docket.job_tasks l JOIN docket.tasks t ON t.id = l.task_id
            WHERE l.job_id = \(job) AND l.relationship_type = \(relationship) AND t.status <> 'completed'
            ORDER BY l.task_id
            """, logger: logger).collect().map { try $0.decode(UUID.self) }
    }

    /// The running jobs whose primary and step tasks are now all completed, `task` being one of them (SPEC 2.6).
    public func jobsCompleted(by task: UUID) async throws -> [UUID] {
        try await connection.query("""
            SELECT j.id FROM docket.job_tasks l JOIN docket.jobs j ON j.id = l.job_id
            WHERE l.task_id = \(task) AND l.relationship_type IN ('primary', 'step') AND j.status = 'running'
              AND NOT EXISTS (
                SELECT 1 FROM docket.job_tasks o JOIN docket.tasks t ON t.id = o.task_id
                WHERE o.job_id = j.id AND o.relationship_type IN ('primary', 'step') AND t.status <> 'completed')
            ORDER BY j.id
            """, logger: logger).collect().map { try $0.decode(UUID.self) }
    }
}
