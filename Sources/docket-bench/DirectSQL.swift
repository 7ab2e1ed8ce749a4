import DocketPostgres
import Foundation
import Logging
import PostgresNIO

/// The statements the job service runs for each scenario, driven straight on PostgreSQL: the baseline docketd is
/// compared with (same database, same number of connections, no protocol, no service code).
struct DirectSQL: Sendable {
    let client: PostgresClient
    let logger: Logger
    let tenant = "bench-direct"

    func transaction(_ body: @Sendable (PostgresConnection) async throws -> Void) async throws {
        try await client.withConnection { connection in
            try await connection.inTransaction(logger: logger) { try await body($0) }
        }
    }

    func event(_ connection: PostgresConnection, _ topic: String, _ job: UUID) async throws {
        try await connection.query("""
            INSERT INTO docket.events (id, topic, tenant_id, entity_type, entity_id, actor_id, data)
            VALUES (\(UUID()), \(topic), \(tenant), 'job', \(job.uuidString.lowercased()), 'bench', '{}')
            """, logger: logger)
    }

    func create() async throws -> UUID {
        let id = UUID()
        try await transaction { c in
            try await c.query("""
                INSERT INTO docket.jobs (id, tenant_id, name, status, priority, execution_context, metadata, created_by)
                VALUES (\(id), \(tenant), 'bench', 'draft', 50, '{}', '{}', 'bench')
                """, logger: logger)
            try await event(c, "job.created", id)
        }
        return id
    }

    func get(_ id: UUID) async throws {
        _ = try await client.query("SELECT * FROM docket.jobs WHERE id = \(id)", logger: logger).collect()
    }

    func start(_ id: UUID) async throws {
        try await transaction { c in
            _ = try await c.query("SELECT * FROM docket.jobs WHERE id = \(id) FOR UPDATE", logger: logger).collect()
            _ = try await c.query("""
                SELECT l.task_id FROM docket.job_tasks l JOIN docket.tasks t ON t.id = l.task_id
                WHERE l.job_id = \(id) AND l.relationship_type = 'prerequisite' AND t.status <> 'completed'
                """, logger: logger).collect()
            _ = try await c.query("SELECT limit_amount FROM docket.budgets WHERE tenant_id = \(tenant) FOR UPDATE", logger: logger).collect()
            try await c.query("""
                INSERT INTO docket.job_runs (id, job_id, tenant_id, run_number, attempt, scheduled_for, started_at)
                VALUES (\(UUID()), \(id), \(tenant), 1, 1, now(), now()) ON CONFLICT DO NOTHING
                """, logger: logger)
            try await c.query("""
                UPDATE docket.jobs SET status = 'running', started_at = now(), run_count = 1, attempt = 1,
                    version = version + 1, updated_at = now() WHERE id = \(id)
                """, logger: logger)
            try await event(c, "job.status_changed", id)
            try await event(c, "job.started", id)
        }
    }

    func complete(_ id: UUID) async throws {
        try await transaction { c in
            _ = try await c.query("SELECT * FROM docket.jobs WHERE id = \(id) FOR UPDATE", logger: logger).collect()
            _ = try await c.query("""
                SELECT l.task_id FROM docket.job_tasks l JOIN docket.tasks t ON t.id = l.task_id
                WHERE l.job_id = \(id) AND l.relationship_type = 'primary' AND t.status <> 'completed'
                """, logger: logger).collect()
            try await c.query("""
                UPDATE docket.jobs SET status = 'succeeded', finished_at = now(), version = version + 1, updated_at = now()
                WHERE id = \(id)
                """, logger: logger)
            try await c.query("""
                UPDATE docket.job_runs SET status = 'succeeded', finished_at = now() WHERE job_id = \(id) AND status = 'running'
                """, logger: logger)
            try await event(c, "job.status_changed", id)
            try await event(c, "job.succeeded", id)
        }
    }

    /// Takes one due job like `job.claim` and returns it, or nil when none is due.
    func claim() async throws -> UUID? {
        let claimed = ClaimedBox()
        try await transaction { c in
            let rows = try await c.query("""
                WITH scheduled AS (
                    SELECT id, priority, next_run_at AS due FROM docket.jobs
                     WHERE tenant_id = \(tenant) AND status = 'scheduled' AND next_run_at <= now()
                     ORDER BY priority DESC, next_run_at LIMIT 1 FOR UPDATE SKIP LOCKED
                ), unheld AS (
                    SELECT id, priority, started_at AS due FROM docket.jobs
                     WHERE tenant_id = \(tenant) AND status = 'running' AND claimed_by IS NULL
                     ORDER BY priority DESC, started_at LIMIT 1 FOR UPDATE SKIP LOCKED
                ), candidates AS (
                    SELECT * FROM scheduled UNION ALL SELECT * FROM unheld
                )
                SELECT id FROM candidates ORDER BY priority DESC, due, id LIMIT 1
                """, logger: logger).collect()
            guard let id = try rows.first?.decode(UUID.self) else { return }
            _ = try await c.query("SELECT limit_amount FROM docket.budgets WHERE tenant_id = \(tenant) FOR UPDATE", logger: logger).collect()
            try await c.query("""
                INSERT INTO docket.job_runs (id, job_id, tenant_id, run_number, attempt, scheduled_for, started_at, claimed_by)
                VALUES (\(UUID()), \(id), \(tenant), 1, 1, now(), now(), 'bench') ON CONFLICT DO NOTHING
                """, logger: logger)
            try await c.query("""
                UPDATE docket.jobs SET status = 'running', started_at = now(), claimed_by = 'bench',
                    lease_expires_at = now() + interval '60 seconds', version = version + 1, updated_at = now()
                WHERE id = \(id)
                """, logger: logger)
            try await event(c, "job.status_changed", id)
            try await event(c, "job.started", id)
            claimed.id = id
        }
        return claimed.id
    }

    /// `count` running jobs with their open runs, all past their `timeout_seconds` at `deadline` (the timeout
    /// sweep's load: many jobs timing out at once).
    static func seedRunning(_ client: PostgresClient, tenant: String, count: Int, deadline: Date, logger: Logger) async throws {
        try await client.query("""
            WITH jobs AS (
                INSERT INTO docket.jobs (id, tenant_id, name, status, timeout_seconds, deadline_at, started_at, current_slot,
                    run_count, attempt, created_by)
                SELECT gen_random_uuid(), \(tenant), 'timing-out-' || n, 'running', 1, \(deadline), now(), now(), 1, 1, 'bench'
                FROM generate_series(1, \(count)) AS n
                RETURNING id, tenant_id, current_slot
            )
            INSERT INTO docket.job_runs (id, job_id, tenant_id, run_number, attempt, scheduled_for, started_at, status)
            SELECT gen_random_uuid(), id, tenant_id, 1, 1, current_slot, current_slot, 'running' FROM jobs
            """, logger: logger)
    }

    /// `count` jobs that failed their first attempt, each with its failed run, whose backoff ends at `retryAt`: what
    /// the leader's retry sweep runs again.
    static func seedFailed(_ client: PostgresClient, tenant: String, count: Int, retryAt: Date, logger: Logger) async throws {
        let policy = #"{"max_attempts": 3, "initial_backoff_seconds": 1, "max_backoff_seconds": 1, "jitter": 0}"#
        try await client.query("""
            WITH jobs AS (
                INSERT INTO docket.jobs (id, tenant_id, name, status, retry_policy, retry_at, started_at, finished_at,
                    current_slot, run_count, attempt, error_code, created_by)
                SELECT gen_random_uuid(), \(tenant), 'retrying-' || n, 'failed', \(policy)::jsonb, \(retryAt), now(), now(),
                    now(), 1, 1, 'BOOM', 'bench'
                FROM generate_series(1, \(count)) AS n
                RETURNING id, tenant_id, current_slot
            )
            INSERT INTO docket.job_runs (id, job_id, tenant_id, run_number, attempt, scheduled_for, started_at, finished_at,
                status, error_code)
            SELECT gen_random_uuid(), id, tenant_id, 1, 1, current_slot, current_slot, current_slot, 'failed', 'BOOM' FROM jobs
            """, logger: logger)
    }

    /// How many of the tenant's jobs are in `status`.
    static func count(_ client: PostgresClient, tenant: String, status: String, logger: Logger) async throws -> Int {
        let rows = try await client.query(
            "SELECT count(*)::int FROM docket.jobs WHERE tenant_id = \(tenant) AND status = \(status)", logger: logger)
        for try await count in rows.decode(Int.self) { return count }
        return 0
    }

    /// The tenants the bench writes to (its scenarios, the raw baselines and pgbench's limits).
    static let benchTenants = ["bench", "bench-direct", "bench-timeouts", "bench-retries", "pgbench", "pgbench-claim"]

    /// Deletes what earlier scenarios left behind — their jobs (with their runs) and events — and vacuums, so each
    /// scenario runs alone: seeded due jobs nobody claimed would otherwise be started by the recurrence sweep during
    /// the scenarios after.
    static func clear(_ client: PostgresClient, logger: Logger) async throws {
        let tenants = benchTenants
        try await client.query("DELETE FROM docket.jobs WHERE tenant_id = ANY(\(tenants))", logger: logger)
        try await client.query("DELETE FROM docket.events WHERE tenant_id = ANY(\(tenants))", logger: logger)
        for table in ["docket.jobs", "docket.job_runs", "docket.events"] {
            try await client.query(PostgresQuery(unsafeSQL: "VACUUM (ANALYZE) \(table)"), logger: logger)
        }
    }

    /// `count` due worker jobs (with a kind, so the recurrence sweep leaves them to the claims) of `tenant`.
    static func seedDue(_ client: PostgresClient, tenant: String, count: Int, logger: Logger) async throws {
        try await client.query("""
            INSERT INTO docket.jobs (id, tenant_id, name, status, next_run_at, created_by, kind)
            SELECT gen_random_uuid(), \(tenant), 'due-' || n, 'scheduled', now() - interval '1 minute', 'bench', 'bench.work'
            FROM generate_series(1, \(count)) AS n
            """, logger: logger)
    }
}

/// Carries the claimed id out of the transaction closure.
final class ClaimedBox: @unchecked Sendable {
    // Written once inside one transaction closure and read after it returned: never concurrently.
    var id: UUID?
}
