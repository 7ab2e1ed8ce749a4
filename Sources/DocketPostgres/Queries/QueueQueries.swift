import DocketCore
import Foundation
import Logging
import PostgresNIO

/// Statements on `docket.queues`, and the counts of a queue's jobs its limits need.
public struct QueueQueries: Sendable {
    let connection: PostgresConnection
    let logger: Logger

    public init(_ connection: PostgresConnection, logger: Logger) {
        self.connection = connection
        self.logger = logger
    }

    static let columns = "tenant_id, name, concurrency, rate_limit_count, rate_limit_seconds, paused, weight, updated_at"

    static func decode(_ row: PostgresRow) throws -> Queue {
        var r = RowReader(row)
        return try decode(&r)
    }

    static func decode(_ r: inout RowReader) throws -> Queue {
        var queue = Queue(tenantId: try r.next(), name: try r.next())
        queue.concurrency = try r.optionalInteger()
        let count = try r.optionalInteger(), per = try r.optionalInteger()
        if let count, let per { queue.rateLimit = Queue.RateLimit(count: count, perSeconds: per) }
        queue.paused = try r.next()
        queue.weight = try r.integer()
        queue.updatedAt = try r.next()
        return queue
    }

    /// The stored settings of a queue; with `lock`, the row is locked until the transaction ends, which is what makes
    /// the limits exact: every start in the queue takes this lock first.
    public func find(tenant: String, name: String, lock: Bool = false) async throws -> Queue? {
        try await connection.query("""
            SELECT \(unescaped: Self.columns) FROM docket.queues WHERE tenant_id = \(tenant) AND name = \(name)
            \(unescaped: lock ? "FOR UPDATE" : "")
            """, logger: logger).collect().first.map(Self.decode)
    }

    /// Stores a queue's settings (creating its row) and returns them.
    public func save(_ queue: Queue) async throws -> Queue {
        let rows = try await connection.query("""
            INSERT INTO docket.queues (tenant_id, name, concurrency, rate_limit_count, rate_limit_seconds, paused, weight, updated_at)
            VALUES (\(queue.tenantId), \(queue.name), \(queue.concurrency.map(Int32.init)), \(queue.rateLimit.map { Int32($0.count) }),
                    \(queue.rateLimit.map { Int32($0.perSeconds) }), \(queue.paused), \(Int32(queue.weight)), now())
            ON CONFLICT (tenant_id, name) DO UPDATE SET concurrency = EXCLUDED.concurrency,
                rate_limit_count = EXCLUDED.rate_limit_count, rate_limit_seconds = EXCLUDED.rate_limit_seconds,
                paused = EXCLUDED.paused, weight = EXCLUDED.weight, updated_at = now()
            RETURNING \(unescaped: Self.columns)
            """, logger: logger).collect()
        return try Self.decode(rows[0])
    }

    /// The weights of the given queues that have stored settings, by tenant and name (the others weigh 1), and
    /// whether each is paused.
    public func weights(of queues: [(tenant: String, queue: String)]) async throws -> [String: (weight: Int, paused: Bool)] {
        let tenants = queues.map(\.tenant), names = queues.map(\.queue)
        let rows = try await connection.query("""
            SELECT q.tenant_id, q.name, q.weight, q.paused FROM docket.queues q
            JOIN unnest(\(tenants)::text[], \(names)::text[]) AS wanted(tenant_id, name)
              ON wanted.tenant_id = q.tenant_id AND wanted.name = q.name
            """, logger: logger)
        var found: [String: (weight: Int, paused: Bool)] = [:]
        for try await (tenant, name, weight, paused) in rows.decode((String, String, Int32, Bool).self) {
            found[Self.key(tenant, name)] = (Int(weight), paused)
        }
        return found
    }

    /// The key of a tenant's queue in `weights(of:)`.
    public static func key(_ tenant: String, _ queue: String) -> String { tenant + "\u{1F}" + queue }

    /// The queue's running jobs.
    public func running(tenant: String, name: String) async throws -> Int {
        let rows = try await connection.query("""
            SELECT count(*)::int FROM docket.jobs WHERE tenant_id = \(tenant) AND queue = \(name) AND status = 'running'
            """, logger: logger).collect()
        return try rows.first?.decode(Int.self) ?? 0
    }

    /// The queue's starts (opened runs) since `since`.
    public func starts(tenant: String, name: String, since: Date) async throws -> Int {
        let rows = try await connection.query("""
            SELECT count(*)::int FROM docket.job_runs r JOIN docket.jobs j ON j.id = r.job_id
            WHERE r.tenant_id = \(tenant) AND r.started_at > \(since) AND j.queue = \(name)
            """, logger: logger).collect()
        return try rows.first?.decode(Int.self) ?? 0
    }

    /// Every queue of a tenant (every tenant when nil, at most `limit`) — those with stored settings and those that only
    /// have jobs — with its counts, from `docket.queue_overview`.
    public func list(tenant: String?, name: String? = nil, limit: Int = 1000) async throws -> [Queue] {
        let rows = try await connection.query("""
            SELECT tenant_id, queue, concurrency, rate_limit_count, rate_limit_seconds, paused, weight, updated_at,
                   available, scheduled, running, failed, oldest_available_since
            FROM docket.queue_overview WHERE (\(tenant)::text IS NULL OR tenant_id = \(tenant))
              AND (\(name)::text IS NULL OR queue = \(name))
            ORDER BY tenant_id, queue LIMIT \(Int32(limit))
            """, logger: logger).collect()
        return try rows.map { row in
            var r = RowReader(row)
            var queue = try Self.decode(&r)
            queue.counts.available = try r.integer()
            queue.counts.scheduled = try r.integer()
            queue.counts.running = try r.integer()
            queue.counts.failed = try r.integer()
            queue.counts.oldestAvailableSince = try r.next()
            return queue
        }
    }
}
