import DocketCore
import Foundation
import Logging
import PostgresNIO

/// Statements on `docket.jobs`.
public struct JobQueries: Sendable {
    let connection: PostgresConnection
    let logger: Logger

    public init(_ connection: PostgresConnection, logger: Logger) {
        self.connection = connection
        self.logger = logger
    }

    public func insert(_ job: Job) async throws {
        try await connection.query("""
            INSERT INTO docket.jobs (id, tenant_id, name, description, status, priority, schedule, next_run_at,
                assigned_agent, execution_context, estimated_cost, timeout_seconds, plan_id, plan_step_index, metadata,
                callback_url, retry_policy, idempotency_key, created_by, created_at, updated_at, version, queue, kind, args)
            VALUES (\(job.id), \(job.tenantId), \(job.name), \(job.description), \(job.status.rawValue),
                \(Int16(job.priority)), \(job.schedule), \(job.nextRunAt), \(job.assignedAgent),
                \(JSONValue.object(job.executionContext)), \(job.estimatedCost?.description)::numeric,
                \(job.timeoutSeconds.map(Int32.init)), \(job.planId), \(job.planStepIndex.map(Int32.init)),
                \(JSONValue.object(job.metadata)), \(job.callbackUrl), \(job.retryPolicy), \(job.idempotencyKey),
                \(job.createdBy), \(job.createdAt), \(job.updatedAt), \(job.version), \(job.queue), \(job.kind),
                \(JSONValue.object(job.args)))
            """, logger: logger)
    }

    /// One job; with `lock`, the row is locked until the transaction ends (`FOR UPDATE`).
    public func find(_ id: UUID, lock: Bool = false) async throws -> Job? {
        let query: PostgresQuery = lock
            ? "SELECT \(unescaped: JobRow.columns) FROM docket.jobs WHERE id = \(id) FOR UPDATE"
            : "SELECT \(unescaped: JobRow.columns) FROM docket.jobs WHERE id = \(id)"
        return try await connection.query(query, logger: logger).collect().first.map(JobRow.decode)
    }

    public func find(tenant: String, idempotencyKey: String) async throws -> Job? {
        try await connection.query("""
            SELECT \(unescaped: JobRow.columns) FROM docket.jobs
            WHERE tenant_id = \(tenant) AND idempotency_key = \(idempotencyKey)
            """, logger: logger).collect().first.map(JobRow.decode)
    }

    /// Writes every mutable column of `job` (the caller has locked the row and bumped `version`).
    public func update(_ job: Job) async throws {
        try await connection.query("""
            UPDATE docket.jobs SET
                name = \(job.name), description = \(job.description), status = \(job.status.rawValue),
                priority = \(Int16(job.priority)), schedule = \(job.schedule), next_run_at = \(job.nextRunAt),
                current_slot = \(job.currentSlot), run_count = \(Int32(job.runCount)),
                assigned_agent = \(job.assignedAgent), delegation_chain = \(JSONValue.array(job.delegationChain)),
                execution_context = \(JSONValue.object(job.executionContext)), checkpoint_data = \(job.checkpointData),
                last_completed_step = \(job.lastCompletedStep.map(Int32.init)),
                estimated_cost = \(job.estimatedCost?.description)::numeric,
                actual_cost = \(job.actualCost?.description)::numeric,
                timeout_seconds = \(job.timeoutSeconds.map(Int32.init)), deadline_at = \(job.deadlineAt),
                plan_id = \(job.planId), plan_step_index = \(job.planStepIndex.map(Int32.init)),
                metadata = \(JSONValue.object(job.metadata)), callback_url = \(job.callbackUrl),
                callback = \(job.callback), callback_due_at = \(job.callbackDueAt), retry_policy = \(job.retryPolicy),
                attempt = \(Int32(job.attempt)), retry_at = \(job.retryAt), result_summary = \(job.resultSummary),
                output = \(job.output), error_code = \(job.errorCode), error_message = \(job.errorMessage),
                cancel_requested = \(job.cancelRequested), cancel_deadline_at = \(job.cancelDeadlineAt),
                pause_requested = \(job.pauseRequested), claimed_by = \(job.claimedBy),
                lease_expires_at = \(job.leaseExpiresAt), ttft_ns = \(job.ttftNs),
                total_duration_ns = \(job.totalDurationNs), updated_at = \(job.updatedAt),
                started_at = \(job.startedAt), finished_at = \(job.finishedAt), version = \(job.version)
            WHERE id = \(job.id)
            """, logger: logger)
    }

    public func delete(_ id: UUID) async throws {
        try await connection.query("DELETE FROM docket.jobs WHERE id = \(id)", logger: logger)
    }

    /// Locks up to `limit` due jobs in one statement, skipping rows other claimers hold: scheduled jobs whose time has
    /// come and running jobs no worker holds, highest priority first, then earliest due.
    ///
    /// Each kind is read from its own partial index in priority order and locked there (`FOR UPDATE SKIP LOCKED`), so
    /// the statement touches about `limit` rows however many are due; the two are then merged. `queues` and `kinds`
    /// (nil: any) route the claim.
    public func lockDue(tenant: String?, queues: [String]? = nil, kinds: [String]? = nil, now: Date, limit: Int) async throws -> [Job] {
        try await connection.query("""
            WITH scheduled AS (
                SELECT id, priority, next_run_at AS due FROM docket.jobs
                 WHERE (\(tenant)::text IS NULL OR tenant_id = \(tenant)) AND status = 'scheduled' AND next_run_at <= \(now)
                   AND (\(queues)::text[] IS NULL OR queue = ANY(\(queues)::text[]))
                   AND (\(kinds)::text[] IS NULL OR kind = ANY(\(kinds)::text[]))
                 ORDER BY priority DESC, next_run_at LIMIT \(Int32(limit)) FOR UPDATE SKIP LOCKED
            ), unheld AS (
                SELECT id, priority, started_at AS due FROM docket.jobs
                 WHERE (\(tenant)::text IS NULL OR tenant_id = \(tenant)) AND status = 'running' AND claimed_by IS NULL
                   AND (\(queues)::text[] IS NULL OR queue = ANY(\(queues)::text[]))
                   AND (\(kinds)::text[] IS NULL OR kind = ANY(\(kinds)::text[]))
                 ORDER BY priority DESC, started_at LIMIT \(Int32(limit)) FOR UPDATE SKIP LOCKED
            ), candidates AS (
                SELECT * FROM scheduled UNION ALL SELECT * FROM unheld
            )
            SELECT \(unescaped: JobRow.columns) FROM docket.jobs
            WHERE id IN (SELECT id FROM candidates ORDER BY priority DESC, due, id LIMIT \(Int32(limit)))
            ORDER BY priority DESC, coalesce(next_run_at, started_at), id
            """, logger: logger).collect().map(JobRow.decode)
    }

    /// The cost counted against a tenant's budget since `since` (nil: all time), jobs in `excluding` left out.
    public func spend(tenant: String, since: Date?, excluding: UUID) async throws -> Money {
        let rows = try await connection.query("""
            SELECT coalesce(sum(coalesce(actual_cost, estimated_cost, 0)), 0)
            FROM docket.jobs
            WHERE tenant_id = \(tenant) AND started_at IS NOT NULL
              AND (\(since)::timestamptz IS NULL OR started_at >= \(since)) AND id <> \(excluding)
            """, logger: logger).collect()
        return try Money(column: try rows.first?.decode(Decimal.self) ?? 0, field: "spend")
    }
}
