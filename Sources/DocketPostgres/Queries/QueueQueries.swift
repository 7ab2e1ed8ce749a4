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

    /// The stored settings of a queue, with the row locked as `lock` says until the transaction ends.
    public func find(tenant: String, name: String, lock: QueueLock = .none) async throws -> Queue? {
        try await connection.query("""
            SELECT \(unescaped: Self.columns) FROM docket.queues WHERE tenant_id = \(tenant) AND name = \(name)
            \(unescaped: lock.rawValue)
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

    /// What a fair-share claim needs of the given queues that have stored settings, by tenant and name (the others
    /// weigh 1 and have no limit): the weight, whether the queue is paused, and its room — how many more jobs a claim
    /// could take from it now (nil: no limit). Room is the lesser of the free concurrency and the starts left in the
    /// rate window, plus the queue's running jobs no worker holds (already started, so no limit stands between them
    /// and a claim). Read without the queue's lock, it is a hint that keeps full queues out of a claim's shares;
    /// `admit` still decides each start under the lock.
    public func shares(of queues: [(tenant: String, queue: String)], now: Date) async throws -> [String: QueueShare] {
        let tenants = queues.map(\.tenant), names = queues.map(\.queue)
        let rows = try await connection.query("""
            SELECT q.tenant_id, q.name, q.weight, q.paused,
                   CASE WHEN q.concurrency IS NULL AND q.rate_limit_count IS NULL THEN NULL ELSE
                     greatest(0, least(q.concurrency - running.total, q.rate_limit_count - (
                       SELECT count(*) FROM docket.job_runs r JOIN docket.jobs j ON j.id = r.job_id
                        WHERE q.rate_limit_count IS NOT NULL AND r.tenant_id = q.tenant_id AND j.queue = q.name
                          AND r.started_at > \(now)::timestamptz - make_interval(secs => q.rate_limit_seconds))))
                     + running.unheld END::int
              FROM docket.queues q
              JOIN unnest(\(tenants)::text[], \(names)::text[]) AS wanted(tenant_id, name)
                ON wanted.tenant_id = q.tenant_id AND wanted.name = q.name
              CROSS JOIN LATERAL (
                SELECT count(*) AS total, count(*) FILTER (WHERE j.claimed_by IS NULL) AS unheld FROM docket.jobs j
                 WHERE (q.concurrency IS NOT NULL OR q.rate_limit_count IS NOT NULL)
                   AND j.tenant_id = q.tenant_id AND j.queue = q.name AND j.status = 'running'
              ) running
            """, logger: logger)
        var found: [String: QueueShare] = [:]
        for try await (tenant, name, weight, paused, room) in rows.decode((String, String, Int32, Bool, Int32?).self) {
            found[Self.key(tenant, name)] = QueueShare(weight: Int(weight), paused: paused, room: room.map(Int.init))
        }
        return found
    }

    /// The key of a tenant's queue in `shares(of:now:)`.
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

/// A queue's part in a fair-share claim (`QueueQueries.shares(of:now:)`).
public struct QueueShare: Sendable {
    public var weight: Int
    public var paused: Bool
    /// How many more jobs a claim could take from the queue now; nil when it has no limit.
    public var room: Int?
}

/// How `QueueQueries.find` locks a queue's row.
public enum QueueLock: String, Sendable {
    case none = ""
    /// Starts in a queue without limits: they run side by side, and a pause or an update waits for them.
    case share = "FOR SHARE"
    /// Starts counted against a limit, and changes of the settings: one at a time, which makes the limits exact.
    case update = "FOR UPDATE"
}
