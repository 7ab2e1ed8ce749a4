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

    /// Inserts a new job and the events of its creation in one statement: with no transaction around it, one round
    /// trip. The job's idempotency key, if any, must be new (a duplicate fails the whole statement).
    public func insert(_ job: Job, events: [EventDraft], epoch: Int64? = nil) async throws {
        Database.eventMark?.set()
        try await connection.query("""
            WITH job AS (
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
                RETURNING id
            )
            INSERT INTO docket.events (\(unescaped: EventQueries.insertedColumns))
            SELECT \(unescaped: EventQueries.selectedColumns), \(epoch)
            FROM job, jsonb_array_elements(\(EventQueries.rows(events))::jsonb) WITH ORDINALITY AS a(e, n)
            ORDER BY n
            """, logger: logger)
    }

    /// Inserts new jobs in one statement, in order (`job.create_many`); returns the ids inserted. A job whose
    /// `idempotency_key` its tenant already has is left out (the caller returns the first job instead).
    public func insertMany(_ jobs: [Job]) async throws -> Set<UUID> {
        let inserted = try await connection.query("""
            INSERT INTO docket.jobs (\(unescaped: Self.insertedColumns))
            SELECT \(unescaped: Self.insertedColumns)
            FROM jsonb_populate_recordset(NULL::docket.jobs, \(Self.records(jobs))::jsonb) WITH ORDINALITY
            ORDER BY ordinality
            ON CONFLICT (tenant_id, idempotency_key) DO NOTHING
            RETURNING id
            """, logger: logger)
        var ids: Set<UUID> = []
        for try await id in inserted.decode(UUID.self) { ids.insert(id) }
        return ids
    }

    /// Inserts new jobs without idempotency keys and all their events in one statement, with no transaction around
    /// it: the group commit of concurrent `job.create`s. Any refusal fails the whole statement.
    public func insertBatch(_ jobs: [Job], events: [EventDraft], epoch: Int64? = nil) async throws {
        Database.eventMark?.set()
        try await connection.query("""
            WITH inserted AS (
                INSERT INTO docket.jobs (\(unescaped: Self.insertedColumns))
                SELECT \(unescaped: Self.insertedColumns)
                FROM jsonb_populate_recordset(NULL::docket.jobs, \(Self.records(jobs))::jsonb) WITH ORDINALITY
                ORDER BY ordinality
                RETURNING id
            )
            INSERT INTO docket.events (\(unescaped: EventQueries.insertedColumns))
            SELECT \(unescaped: EventQueries.selectedColumns), \(epoch)
            FROM jsonb_array_elements(\(EventQueries.rows(events))::jsonb) WITH ORDINALITY AS a(e, n)
            WHERE (SELECT count(*) FROM inserted) = \(Int64(jobs.count))
            ORDER BY n
            """, logger: logger)
    }

    /// The columns a new job is inserted with, by `insertMany` and `insertBatch`.
    static let insertedColumns = """
        id, tenant_id, name, description, status, priority, schedule, next_run_at, assigned_agent, execution_context,
        estimated_cost, timeout_seconds, plan_id, plan_step_index, metadata, callback_url, retry_policy, idempotency_key,
        created_by, created_at, updated_at, version, queue, kind, args
        """

    /// Every column of `docket.jobs`, in `JobRow`'s order.
    static let allColumns: [String] = JobRow.columns.split(separator: ",").map { $0.trimmingCharacters(in: .whitespacesAndNewlines) }

    /// Jobs as one JSON array of whole `docket.jobs` records (`jsonb_populate_recordset`), bound as one parameter.
    /// A column whose value is null is left out of its record: the function reads a missing key as NULL, as it reads
    /// JSON's null, and most of a new job's columns are null (a record of every column was twice the text to parse).
    static func records(_ jobs: [Job]) -> JSONValue {
        .array(jobs.map { job in
            var record = Record()
            record["id"] = .string(job.id.uuidString)
            record["tenant_id"] = .string(job.tenantId)
            record["name"] = .string(job.name)
            record["created_by"] = .string(job.createdBy)
            record.time("created_at", job.createdAt)
            record.text("description", job.description)
            record["status"] = .string(job.status.rawValue)
            record.integer("priority", job.priority)
            record["schedule"] = job.schedule
            record.time("next_run_at", job.nextRunAt)
            record.time("current_slot", job.currentSlot)
            record.integer("run_count", job.runCount)
            record.text("assigned_agent", job.assignedAgent)
            record["delegation_chain"] = .array(job.delegationChain)
            record["execution_context"] = .object(job.executionContext)
            record["checkpoint_data"] = job.checkpointData
            record.integer("last_completed_step", job.lastCompletedStep)
            record.text("estimated_cost", job.estimatedCost?.description)
            record.text("actual_cost", job.actualCost?.description)
            record.integer("timeout_seconds", job.timeoutSeconds)
            record.time("deadline_at", job.deadlineAt)
            record.text("plan_id", job.planId)
            record.integer("plan_step_index", job.planStepIndex)
            record["metadata"] = .object(job.metadata)
            record.text("callback_url", job.callbackUrl)
            record["callback"] = job.callback
            record.time("callback_due_at", job.callbackDueAt)
            record["retry_policy"] = job.retryPolicy
            record.integer("attempt", job.attempt)
            record.time("retry_at", job.retryAt)
            record.text("result_summary", job.resultSummary)
            record["output"] = job.output
            record.text("error_code", job.errorCode)
            record.text("error_message", job.errorMessage)
            record["cancel_requested"] = job.cancelRequested
            record.time("cancel_deadline_at", job.cancelDeadlineAt)
            record["pause_requested"] = .bool(job.pauseRequested)
            record.text("claimed_by", job.claimedBy)
            record.time("lease_expires_at", job.leaseExpiresAt)
            record.integer("ttft_ns", job.ttftNs)
            record.integer("total_duration_ns", job.totalDurationNs)
            record.text("idempotency_key", job.idempotencyKey)
            record.time("updated_at", job.updatedAt)
            record.time("started_at", job.startedAt)
            record.time("finished_at", job.finishedAt)
            record.integer("version", job.version)
            record["queue"] = .string(job.queue)
            record.text("kind", job.kind)
            record["args"] = .object(job.args)
            return .object(record.fields)
        })
    }

    /// One record of `records`: its non-null columns.
    private struct Record {
        var fields: [String: JSONValue] = Dictionary(minimumCapacity: 32)

        subscript(column: String) -> JSONValue? {
            get { fields[column] }
            set { if let newValue, newValue != .null { fields[column] = newValue } }
        }

        mutating func time(_ column: String, _ date: Date?) { self[column] = date.map { .string(Timestamp.format($0)) } }
        mutating func text(_ column: String, _ value: String?) { self[column] = value.map(JSONValue.string) }
        // Numbers as text: the record's input functions parse them whatever the JSON number's form.
        mutating func integer<N: BinaryInteger>(_ column: String, _ value: N?) { self[column] = value.map { .string("\($0)") } }
    }

    /// One job; with `lock`, the row is locked until the transaction ends (`FOR UPDATE`).
    public func find(_ id: UUID, lock: Bool = false) async throws -> Job? {
        lock ? try await first(JobByID<JobRead.Locked>(id: id)) : try await first(JobByID<JobRead.Plain>(id: id))
    }

    /// One job with which of its gates have anything to check; with `lock`, the row is locked until the transaction
    /// ends (`FOR UPDATE`).
    public func findWithGates(_ id: UUID, lock: Bool) async throws -> (Job, JobGates)? {
        let found = lock ? try await first(JobByID<JobRead.LockedWithGates>(id: id)) : try await first(JobByID<JobRead.WithGates>(id: id))
        return found.map { ($0.job, $0.gates) }
    }

    private func first<Statement: PostgresPreparedStatement>(_ statement: Statement) async throws -> Statement.Row? {
        var found: Statement.Row?
        for try await row in try await connection.execute(statement, logger: logger) { found = row }
        return found
    }

    public func find(tenant: String, idempotencyKey: String) async throws -> Job? {
        try await connection.query("""
            SELECT \(unescaped: JobRow.columns) FROM docket.jobs
            WHERE tenant_id = \(tenant) AND idempotency_key = \(idempotencyKey)
            """, logger: logger).collect().first.map(JobRow.decode)
    }

    /// Writes a changed job — only the columns that differ from `before`, the row as it was read under its lock —
    /// and appends `events` and writes its runs' changes (`runs`: a run opened, closed or claimed) in the same
    /// statement: one round trip for the change and what it tells.
    public func update(_ job: Job, from before: Job, events: [EventDraft] = [], epoch: Int64? = nil,
                       runs: [RunWrite] = []) async throws {
        var set = try Self.changes(job, from: before)
        for run in runs { try run.write(into: &set, epoch: epoch) }
        guard let query = try set.update("docket.jobs", id: job.id, events: events, epoch: epoch) else { return }
        if !events.isEmpty { Database.eventMark?.set() }
        try await connection.query(query, logger: logger)
    }

    /// `update` with no lock held: written only if the row is still at `before.version` (one statement, its own
    /// transaction); false when another write came first and nothing was written.
    public func updateIfUnchanged(_ job: Job, from before: Job, events: [EventDraft] = [], runs: [RunWrite] = []) async throws -> Bool {
        var set = try Self.changes(job, from: before)
        for run in runs { try run.write(into: &set, epoch: nil, guarded: true) }
        if !events.isEmpty { Database.eventMark?.set() }
        let rows = try await connection.query(try set.update("docket.jobs", id: job.id, ifVersion: before.version, events: events),
                                              logger: logger).collect()
        return try rows.first?.decode(Int.self) == 1
    }

    /// The columns of `job` that differ from `before`, as an `UPDATE`'s assignments (`binding: false`: their names
    /// only, nothing encoded).
    static func changes(_ job: Job, from before: Job, binding: Bool = true) throws -> ChangedColumns {
        var set = ChangedColumns(binding: binding)
        try set.set("name", job.name, was: before.name)
        try set.set("description", job.description, was: before.description)
        try set.set("status", job.status, was: before.status) { $0.rawValue }
        try set.set("priority", job.priority, was: before.priority) { Int16($0) }
        try set.set("schedule", job.schedule, was: before.schedule)
        try set.set("next_run_at", job.nextRunAt, was: before.nextRunAt)
        try set.set("current_slot", job.currentSlot, was: before.currentSlot)
        try set.set("run_count", job.runCount, was: before.runCount) { Int32($0) }
        try set.set("assigned_agent", job.assignedAgent, was: before.assignedAgent)
        try set.set("delegation_chain", job.delegationChain, was: before.delegationChain) { JSONValue.array($0) }
        try set.set("execution_context", job.executionContext, was: before.executionContext) { JSONValue.object($0) }
        try set.set("checkpoint_data", job.checkpointData, was: before.checkpointData)
        try set.set("last_completed_step", job.lastCompletedStep, was: before.lastCompletedStep) { $0.map(Int32.init) }
        try set.set("estimated_cost", job.estimatedCost, was: before.estimatedCost, cast: "::numeric") { $0?.description }
        try set.set("actual_cost", job.actualCost, was: before.actualCost, cast: "::numeric") { $0?.description }
        try set.set("timeout_seconds", job.timeoutSeconds, was: before.timeoutSeconds) { $0.map(Int32.init) }
        try set.set("deadline_at", job.deadlineAt, was: before.deadlineAt)
        try set.set("plan_id", job.planId, was: before.planId)
        try set.set("plan_step_index", job.planStepIndex, was: before.planStepIndex) { $0.map(Int32.init) }
        try set.set("metadata", job.metadata, was: before.metadata) { JSONValue.object($0) }
        try set.set("callback_url", job.callbackUrl, was: before.callbackUrl)
        try set.set("callback", job.callback, was: before.callback)
        try set.set("callback_due_at", job.callbackDueAt, was: before.callbackDueAt)
        try set.set("retry_policy", job.retryPolicy, was: before.retryPolicy)
        try set.set("attempt", job.attempt, was: before.attempt) { Int32($0) }
        try set.set("retry_at", job.retryAt, was: before.retryAt)
        try set.set("result_summary", job.resultSummary, was: before.resultSummary)
        try set.set("output", job.output, was: before.output)
        try set.set("error_code", job.errorCode, was: before.errorCode)
        try set.set("error_message", job.errorMessage, was: before.errorMessage)
        try set.set("cancel_requested", job.cancelRequested, was: before.cancelRequested)
        try set.set("cancel_deadline_at", job.cancelDeadlineAt, was: before.cancelDeadlineAt)
        try set.set("pause_requested", job.pauseRequested, was: before.pauseRequested)
        try set.set("claimed_by", job.claimedBy, was: before.claimedBy)
        try set.set("lease_expires_at", job.leaseExpiresAt, was: before.leaseExpiresAt)
        try set.set("ttft_ns", job.ttftNs, was: before.ttftNs)
        try set.set("total_duration_ns", job.totalDurationNs, was: before.totalDurationNs)
        try set.set("updated_at", job.updatedAt, was: before.updatedAt)
        try set.set("started_at", job.startedAt, was: before.startedAt)
        try set.set("finished_at", job.finishedAt, was: before.finishedAt)
        try set.set("version", job.version, was: before.version)
        return set
    }

    public func delete(_ id: UUID) async throws {
        try await connection.query("DELETE FROM docket.jobs WHERE id = \(id)", logger: logger)
    }

    /// Locks up to `limit` due jobs in one statement, with their gates (`JobGates`), skipping rows other claimers
    /// hold: running jobs no worker holds first (they are started already, and count against their queue's limits),
    /// then scheduled jobs whose time has come; highest priority first within each, then earliest due.
    ///
    /// Each kind is read from its own partial index in priority order and locked there (`FOR UPDATE SKIP LOCKED`), so
    /// the statement touches about `limit` rows however many are due; the two are then merged. `queues` and `kinds`
    /// (nil: any) route the claim; `excluding` leaves out jobs this transaction already holds (row locks of one's own
    /// transaction do not make `SKIP LOCKED` skip).
    public func lockDue(tenant: String?, queues: [String]? = nil, kinds: [String]? = nil, excluding: [UUID] = [], now: Date,
                        limit: Int) async throws -> [(Job, JobGates)] {
        try await connection.query("""
            WITH scheduled AS (
                SELECT id, 1 AS waiting, priority, next_run_at AS due FROM docket.jobs
                 WHERE (\(tenant)::text IS NULL OR tenant_id = \(tenant)) AND status = 'scheduled' AND next_run_at <= \(now)
                   AND (\(queues)::text[] IS NULL OR queue = ANY(\(queues)::text[]))
                   AND (\(kinds)::text[] IS NULL OR kind = ANY(\(kinds)::text[])) AND NOT id = ANY(\(excluding)::uuid[])
                   AND NOT EXISTS (SELECT 1 FROM docket.queues q WHERE q.tenant_id = jobs.tenant_id AND q.name = jobs.queue AND q.paused)
                 ORDER BY priority DESC, next_run_at LIMIT \(Int32(limit)) FOR UPDATE SKIP LOCKED
            ), unheld AS (
                SELECT id, 0 AS waiting, priority, started_at AS due FROM docket.jobs
                 WHERE (\(tenant)::text IS NULL OR tenant_id = \(tenant)) AND status = 'running' AND claimed_by IS NULL
                   AND (\(queues)::text[] IS NULL OR queue = ANY(\(queues)::text[]))
                   AND (\(kinds)::text[] IS NULL OR kind = ANY(\(kinds)::text[])) AND NOT id = ANY(\(excluding)::uuid[])
                 ORDER BY priority DESC, started_at LIMIT \(Int32(limit)) FOR UPDATE SKIP LOCKED
            ), candidates AS (
                SELECT * FROM scheduled UNION ALL SELECT * FROM unheld
            )
            SELECT \(unescaped: JobRow.columns), \(unescaped: JobRow.gateColumns) FROM docket.jobs
            WHERE id IN (SELECT id FROM candidates ORDER BY waiting, priority DESC, due, id LIMIT \(Int32(limit)))
            ORDER BY status = 'scheduled', priority DESC, coalesce(next_run_at, started_at), id
            """, logger: logger).collect().map { row in let read = try JobRow.decodeWithGates(row); return (read.job, read.gates) }
    }

    /// The queues that have jobs, with their tenants (of `tenant`, or of every tenant), found by skipping through the
    /// `(tenant_id, queue, …)` index one queue at a time: a probe per queue, however many jobs each holds. What a
    /// fair-share claim splits its slots over; one without due work simply yields nothing when asked.
    public func queuesWithJobs(tenant: String?, limit: Int = 1000) async throws -> [(tenant: String, queue: String)] {
        let rows: PostgresRowSequence
        if let tenant {
            rows = try await connection.query("""
                WITH RECURSIVE found(queue) AS (
                    (SELECT queue FROM docket.jobs WHERE tenant_id = \(tenant) ORDER BY queue LIMIT 1)
                    UNION ALL
                    SELECT next.queue FROM found,
                      LATERAL (SELECT queue FROM docket.jobs WHERE tenant_id = \(tenant) AND queue > found.queue
                               ORDER BY queue LIMIT 1) next
                )
                SELECT \(tenant)::text, queue FROM found LIMIT \(Int32(limit))
                """, logger: logger)
        } else {
            rows = try await connection.query("""
                WITH RECURSIVE found(tenant_id, queue) AS (
                    (SELECT tenant_id, queue FROM docket.jobs ORDER BY tenant_id, queue LIMIT 1)
                    UNION ALL
                    SELECT next.tenant_id, next.queue FROM found,
                      LATERAL (SELECT tenant_id, queue FROM docket.jobs WHERE (tenant_id, queue) > (found.tenant_id, found.queue)
                               ORDER BY tenant_id, queue LIMIT 1) next
                )
                SELECT tenant_id, queue FROM found LIMIT \(Int32(limit))
                """, logger: logger)
        }
        var found: [(tenant: String, queue: String)] = []
        for try await (tenant, queue) in rows.decode((String, String).self) { found.append((tenant, queue)) }
        return found
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
