import DocketCore
import Foundation
import PostgresNIO

extension JobQueries {
    /// One page of a tenant's jobs in `(created_at, id)` order, filtered; served by the `jobs_tenant_*` indexes.
    public func list(tenant: String, filter: JobFilter, page: PageRequest) async throws -> Page<Job> {
        // The cursor's time is bound as a parsed instant, never as its text: PostgreSQL must not see a forged one.
        let key = try Keyset.key(of: page, list: "job.list") { parts -> (Date, UUID)? in
            guard parts.count == 2, let time = Timestamp.parse(parts[0]), let id = UUID(uuidString: parts[1]) else { return nil }
            return (time, id)
        }
        let (cursorTime, cursorID) = (key?.0, key?.1)
        let statuses = filter.statuses.isEmpty ? nil : filter.statuses.map(\.rawValue)
        let ascending = page.scansAscending
        let comparison = ascending ? ">" : "<"
        let direction = ascending ? "ASC" : "DESC"
        // Everything contains `{}`: an empty filter filters nothing, and a non-empty one implies `jobs_metadata_idx`'s
        // predicate, said beside it so that the planner can use the index.
        let metadata = filter.metadata.flatMap { $0.isEmpty ? nil : JSONValue.object($0) }
        let rows = try await connection.query("""
            SELECT \(unescaped: JobRow.columns) FROM docket.jobs
            WHERE tenant_id = \(tenant)
              AND (\(statuses)::text[] IS NULL OR status = ANY(\(statuses)::text[]))
              AND (\(filter.assignedAgent)::text IS NULL OR assigned_agent = \(filter.assignedAgent))
              AND (\(filter.planId)::text IS NULL OR plan_id = \(filter.planId))
              AND (\(filter.queue)::text IS NULL OR queue = \(filter.queue))
              AND (\(filter.kind)::text IS NULL OR kind = \(filter.kind))
              AND (\(metadata)::jsonb IS NULL OR metadata @> \(metadata)::jsonb) \(unescaped: metadata == nil ? "" : Self.hasMetadata)
              AND (\(filter.createdAfter)::timestamptz IS NULL OR created_at > \(filter.createdAfter))
              AND (\(filter.createdBefore)::timestamptz IS NULL OR created_at < \(filter.createdBefore))
              AND (\(cursorTime)::timestamptz IS NULL
                   OR (created_at, id) \(unescaped: comparison) (\(cursorTime)::timestamptz, \(cursorID)::uuid))
            ORDER BY created_at \(unescaped: direction), id \(unescaped: direction)
            LIMIT \(Int32(page.limit + 1))
            """, logger: logger).collect()
        return Keyset.page(try rows.map(JobRow.decode), page) { Cursor(parts: [Timestamp.format($0.createdAt), $0.id.uuidString]) }
    }

    /// `jobs_metadata_idx`'s predicate, as the list query states it.
    static let hasMetadata = "AND metadata <> '{}'::jsonb"
}
