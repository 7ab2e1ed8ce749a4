import DocketCore
import Foundation
import PostgresNIO

extension TaskQueries {
    /// One page of a tenant's tasks, filtered, by priority (highest first) then age (oldest first), then id.
    ///
    /// `order: desc` is that default order; `asc` reverses it. Served by `tasks_tenant_order_idx` and
    /// `tasks_tenant_status_idx`.
    public func list(tenant: String, filter: TaskFilter, page: PageRequest) async throws -> Page<WorkTask> {
        // The time is bound as a parsed instant, never as its text: PostgreSQL must not see a forged one.
        let key = try Keyset.key(of: page, list: "task.list") { parts -> (Int16, Date, UUID)? in
            guard parts.count == 3, let priority = Int16(parts[0]), let time = Timestamp.parse(parts[1]),
                  let id = UUID(uuidString: parts[2]) else { return nil }
            return (priority, time, id)
        }
        let (cursorPriority, cursorTime, cursorID) = (key?.0, key?.1, key?.2)
        // Forward in the default order is priority DESC, created_at ASC, id ASC.
        let forward = (page.order == .desc) != (page.before != nil)
        let statuses = filter.statuses.isEmpty ? nil : filter.statuses.map(\.rawValue)
        let (after, orderBy) = forward
            ? (">", "priority DESC, created_at ASC, id ASC")
            : ("<", "priority ASC, created_at DESC, id DESC")
        let lower = forward ? "<" : ">"
        let query: PostgresQuery = """
            SELECT \(unescaped: TaskRow.columns) FROM docket.tasks
            WHERE tenant_id = \(tenant)
              AND (\(statuses)::text[] IS NULL OR status = ANY(\(statuses)::text[]))
              AND (\(filter.jobId)::uuid IS NULL OR job_id = \(filter.jobId))
              AND (\(filter.assigneeId)::text IS NULL OR assignee_id = \(filter.assigneeId))
              AND (\(filter.parentId)::uuid IS NULL OR parent_id = \(filter.parentId))
              AND (\(filter.priorityMin.map(Int16.init))::smallint IS NULL OR priority >= \(filter.priorityMin.map(Int16.init)))
              AND (\(filter.priorityMax.map(Int16.init))::smallint IS NULL OR priority <= \(filter.priorityMax.map(Int16.init)))
              AND (\(cursorPriority)::smallint IS NULL
                   OR priority \(unescaped: lower) \(cursorPriority)
                   OR (priority = \(cursorPriority)
                       AND (created_at, id) \(unescaped: after) (\(cursorTime)::timestamptz, \(cursorID)::uuid)))
            ORDER BY \(unescaped: orderBy)
            LIMIT \(Int32(page.limit + 1))
            """
        let tasks = try await connection.query(query, logger: logger).collect().map(TaskRow.decode)
        return Keyset.page(tasks, page) { Cursor(parts: [String($0.priority), Timestamp.format($0.createdAt), $0.id.uuidString]) }
    }
}
