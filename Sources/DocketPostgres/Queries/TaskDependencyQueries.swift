import DocketCore
import Foundation
import Logging
import PostgresNIO

/// Statements on `docket.task_dependencies`.
public struct TaskDependencyQueries: Sendable {
    let connection: PostgresConnection
    let logger: Logger

    public init(_ connection: PostgresConnection, logger: Logger) {
        self.connection = connection
        self.logger = logger
    }

    /// Serialises dependency changes within a tenant for the rest of the transaction, so two concurrent additions
    /// cannot each pass the cycle check and together close a cycle.
    public func lockGraph(tenant: String) async throws {
        try await connection.query(
            "SELECT pg_advisory_xact_lock(\(AdvisoryLockKey.docketNamespace), hashtext(\(tenant)))", logger: logger)
    }

    /// The path from `from` to `to` along "depends on" edges (both ends included), or nil when there is none.
    ///
    /// One recursive query over the whole graph; a path's visited set stops it from looping.
    public func path(from: UUID, to: UUID) async throws -> [UUID]? {
        let rows = try await connection.query("""
            WITH RECURSIVE walk(node, path) AS (
                SELECT \(from)::uuid, ARRAY[\(from)::uuid]
              UNION ALL
                SELECT d.depends_on_id, w.path || d.depends_on_id
                FROM walk w JOIN docket.task_dependencies d ON d.task_id = w.node
                WHERE NOT d.depends_on_id = ANY(w.path) AND NOT \(to)::uuid = ANY(w.path)
            )
            SELECT path FROM walk WHERE node = \(to) ORDER BY array_length(path, 1) LIMIT 1
            """, logger: logger).collect()
        return try rows.first?.decode([UUID].self)
    }

    /// Adds or retypes an edge.
    public func upsert(task: UUID, dependsOn: UUID, tenant: String, type: DependencyType, by actor: String) async throws {
        try await connection.query("""
            INSERT INTO docket.task_dependencies (task_id, depends_on_id, tenant_id, dependency_type, created_by)
            VALUES (\(task), \(dependsOn), \(tenant), \(type.rawValue), \(actor))
            ON CONFLICT (task_id, depends_on_id) DO UPDATE SET dependency_type = EXCLUDED.dependency_type
            """, logger: logger)
    }

    /// Removes an edge; false when there was none.
    public func delete(task: UUID, dependsOn: UUID) async throws -> Bool {
        !(try await connection.query("""
            DELETE FROM docket.task_dependencies WHERE task_id = \(task) AND depends_on_id = \(dependsOn)
            RETURNING task_id
            """, logger: logger).collect().isEmpty)
    }

    /// A task's prerequisites with their statuses.
    public func prerequisites(of task: UUID) async throws -> [TaskDependencyEdge] {
        try await edges("WHERE d.task_id = \(task)")
    }

    /// The tasks depending on `task`, with `task`'s status as the prerequisite status.
    public func dependents(of task: UUID) async throws -> [TaskDependencyEdge] {
        try await edges("WHERE d.depends_on_id = \(task)")
    }

    private func edges(_ condition: PostgresQuery) async throws -> [TaskDependencyEdge] {
        let query = PostgresQuery(unsafeSQL: """
            SELECT d.task_id, d.depends_on_id, d.dependency_type, p.status
            FROM docket.task_dependencies d JOIN docket.tasks p ON p.id = d.depends_on_id
            \(condition.sql)
            ORDER BY d.created_at, d.depends_on_id
            """, binds: condition.binds)
        return try await connection.query(query, logger: logger).collect().map { row in
            let (task, prerequisite, type, status) = try row.decode((UUID, UUID, String, String).self)
            return TaskDependencyEdge(taskId: task, dependsOnId: prerequisite, type: DependencyType(rawValue: type) ?? .follows,
                        prerequisiteStatus: TaskStatus(rawValue: status) ?? .pending)
        }
    }
}
