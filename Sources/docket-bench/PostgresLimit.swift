import DocketPostgres
import Foundation
import Logging
import PostgresNIO

/// PostgreSQL's own limit for the work docketd's scenarios do, measured by pgbench (from the PostgreSQL install) in the
/// same run, on the same database, with as many clients as the bench has connections: a durable single-row `INSERT`
/// into `docket.jobs` per transaction, and a one-statement `FOR UPDATE SKIP LOCKED` claim from the claim index.
struct PostgresLimit {
    /// Single-row inserts per second.
    var insert: Double
    /// One-statement claims per second.
    var claim: Double

    static let insertScript = """
        INSERT INTO docket.jobs (id, tenant_id, name, status, priority, execution_context, metadata, created_by)
        VALUES (gen_random_uuid(), 'pgbench', 'pgbench', 'draft', 50, '{}', '{}', 'pgbench');
        """

    static let claimScript = """
        UPDATE docket.jobs SET status = 'running', claimed_by = 'pgbench', started_at = now(),
            lease_expires_at = now() + interval '60 seconds'
        WHERE id = (SELECT id FROM docket.jobs WHERE tenant_id = 'pgbench-claim' AND status = 'scheduled'
                    AND next_run_at <= now() ORDER BY priority DESC, next_run_at LIMIT 1 FOR UPDATE SKIP LOCKED);
        """

    /// How many due jobs the claim limit, and the bench's claim scenarios, are measured on.
    static func seeded(seconds: Double) -> Int { max(40_000, Int(seconds * 8_000)) }

    static func measure(
        _ endpoint: DatabaseEndpoint, pool: PostgresClient, clients: Int, seconds: Double, logger: Logger
    ) async throws -> PostgresLimit {
        let counts = StatementCounts(pool: pool, logger: logger)
        try await counts.resetWAL()
        let insert = try await pgbench(insertScript, endpoint, clients: clients, seconds: seconds)
        let insertWAL = try await counts.walPerRequest(Int(insert * seconds.rounded(.up)))
        try await DirectSQL.seedDue(pool, tenant: "pgbench-claim", count: seeded(seconds: seconds), logger: logger)
        try await counts.resetWAL()
        let claim = try await pgbench(claimScript, endpoint, clients: clients, seconds: seconds)
        let claimWAL = try await counts.walPerRequest(Int(claim * seconds.rounded(.up)))
        for (name, wal) in [("insert", insertWAL), ("claim", claimWAL)] {
            print(String(format: "pgbench %@: WAL per transaction %.0f bytes, %.2f full-page images; %.1f transactions per WAL flush",
                         name, wal.bytes, wal.fullPages, wal.perFlush))
        }
        return PostgresLimit(insert: insert, claim: claim)
    }

    /// Runs one pgbench script and returns its transactions per second.
    static func pgbench(_ script: String, _ endpoint: DatabaseEndpoint, clients: Int, seconds: Double) async throws -> Double {
        let file = NSTemporaryDirectory() + "docket-bench-\(getpid())-\(UInt32.random(in: 0...UInt32.max)).sql"
        try script.write(toFile: file, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(atPath: file) }
        var arguments = ["-n", "-M", "prepared", "-c", String(clients), "-j", "2", "-T", String(Int(seconds.rounded(.up))),
                         "-f", file, "-U", endpoint.username]
        switch endpoint.address {
        case .tcp(let host, let port):
            arguments += ["-h", host, "-p", String(port)]
        case .socket(let path):
            let url = URL(fileURLWithPath: path)
            arguments += ["-h", url.deletingLastPathComponent().path, "-p", String(url.lastPathComponent.split(separator: ".").last ?? "5432")]
        }
        arguments.append(endpoint.database)
        let program = try PostgresBinaries.locate().path("pgbench")
        let output = try await Command(executable: program, arguments: arguments).runAsync()
        guard output.status == 0,
              let line = output.text.split(separator: "\n").first(where: { $0.hasPrefix("tps = ") }),
              let tps = Double(line.dropFirst("tps = ".count).prefix { $0 == "." || $0.isNumber }) else {
            throw BenchFailure("pgbench failed (exit \(output.status)): \(output.text.suffix(600))")
        }
        return tps
    }
}

/// PostgreSQL's statements per request of a scenario, from `pg_stat_statements` (reset before the scenario).
struct StatementCounts {
    let pool: PostgresClient
    let logger: Logger

    /// Whether the server has `pg_stat_statements` loaded (the bench's own embedded server does).
    func available() async -> Bool {
        do {
            try await pool.query("CREATE EXTENSION IF NOT EXISTS pg_stat_statements", logger: logger)
            try await reset()
            return true
        } catch {
            return false
        }
    }

    func reset() async throws {
        _ = try await pool.query("SELECT pg_stat_statements_reset()", logger: logger).collect()
        try await resetWAL()
    }

    func resetWAL() async throws {
        _ = try await pool.query("SELECT pg_stat_reset_shared('wal')", logger: logger).collect()
    }

    /// The WAL written since the reset (`pg_stat_wal`, the whole server's), per request: bytes, full-page images,
    /// and how many requests shared each WAL flush (a durable commit waits for one).
    func walPerRequest(_ requests: Int) async throws -> (bytes: Double, fullPages: Double, perFlush: Double) {
        let rows = try await pool.query("SELECT wal_bytes::float8, wal_fpi::float8, wal_sync::float8 FROM pg_stat_wal",
                                        logger: logger).collect()
        let (bytes, pages, syncs) = try rows[0].decode((Double, Double, Double).self)
        let per = Double(max(requests, 1))
        return (bytes / per, pages / per, per / max(syncs, 1))
    }

    /// The statements run since the reset, per request, the costliest in execution time first; the bench's own are left out.
    func perRequest(_ requests: Int) async throws -> (total: Double, statements: [(calls: Double, meanMs: Double, text: String)]) {
        let rows = try await pool.query("""
            SELECT calls, mean_exec_time, left(regexp_replace(query, '\\s+', ' ', 'g'), 90) FROM pg_stat_statements
             WHERE dbid = (SELECT oid FROM pg_database WHERE datname = current_database())
               AND query NOT LIKE '%pg_stat_statements%' ORDER BY total_exec_time DESC
            """, logger: logger).collect()
        let per = Double(max(requests, 1))
        let statements: [(calls: Double, meanMs: Double, text: String)] = try rows.map { row in
            let (calls, mean, text) = try row.decode((Int64, Double, String).self)
            return (calls: Double(calls) / per, meanMs: mean, text: text)
        }
        return (statements.reduce(0) { $0 + $1.calls }, statements)
    }
}

struct BenchFailure: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}
