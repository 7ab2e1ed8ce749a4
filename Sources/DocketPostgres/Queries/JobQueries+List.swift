import DocketCore
import Foundation
import PostgresNIO

extension JobQueries {
    /// One page of a tenant's jobs in `(created_at, id)` order, filtered; served by the `jobs_tenant_*` indexes.
    public func list(tenant: String, filter: JobFilter, page: PageRequest) async throws -> Page<Job> {
        let cursor = page.after ?? page.before
        // The cursor's time is bound as a parsed instant, never as its text: PostgreSQL must not see a forged one.
        let cursorTime = cursor?.parts.first.flatMap(Timestamp.parse)
        let cursorID = cursor.flatMap { $0.parts.count > 1 ? UUID(uuidString: $0.parts[1]) : nil }
        if cursor != nil, cursorTime == nil || cursorID == nil {
            throw DocketError.validation(field: page.after != nil ? "after" : "before", "not a cursor returned by job.list")
        }
        let statuses = filter.statuses.isEmpty ? nil : filter.statuses.map(\.rawValue)
        let ascending = page.scansAscending
        let comparison = ascending ? ">" : "<"
        let direction = ascending ? "ASC" : "DESC"
        let rows = try await connection.query("""
            SELECT \(unescaped: JobRow.columns) FROM docket.jobs
            WHERE tenant_id = \(tenant)
              AND (\(statuses)::text[] IS NULL OR status = ANY(\(statuses)::text[]))
              AND (\(filter.assignedAgent)::text IS NULL OR assigned_agent = \(filter.assignedAgent))
              AND (\(filter.planId)::text IS NULL OR plan_id = \(filter.planId))
              AND (\(filter.metadata.map(JSONValue.object))::jsonb IS NULL OR metadata @> \(filter.metadata.map(JSONValue.object))::jsonb)
              AND (\(filter.createdAfter)::timestamptz IS NULL OR created_at > \(filter.createdAfter))
              AND (\(filter.createdBefore)::timestamptz IS NULL OR created_at < \(filter.createdBefore))
              AND (\(cursorTime)::timestamptz IS NULL
                   OR (created_at, id) \(unescaped: comparison) (\(cursorTime)::timestamptz, \(cursorID)::uuid))
            ORDER BY created_at \(unescaped: direction), id \(unescaped: direction)
            LIMIT \(Int32(page.limit + 1))
            """, logger: logger).collect()
        var jobs = try rows.map(JobRow.decode)
        let more = jobs.count > page.limit
        if more { jobs.removeLast() }
        if page.before != nil { jobs.reverse() }
        func key(_ job: Job) -> Cursor { Cursor(parts: [Timestamp.format(job.createdAt), job.id.uuidString]) }
        // Going forward, "next" exists when more rows followed; going back, it is where we came from.
        let next = (page.before != nil || more) ? jobs.last.map(key) : nil
        let previous = (page.after != nil || (page.before != nil && more)) ? jobs.first.map(key) : nil
        return Page(items: jobs, nextCursor: next, previousCursor: previous)
    }
}
