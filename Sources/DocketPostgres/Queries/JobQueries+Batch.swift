import DocketCore
import Foundation
import PostgresNIO

/// One job of a sweep's batch, changed under the batch's row lock: the job as changed, as read, its events, and the
/// run it opens or closes, if any.
public struct BatchChange: Sendable {
    public var job: Job
    public var before: Job
    public var events: [EventDraft]
    public var opening: JobRun?
    public var closing: RunClosing?

    public init(job: Job, before: Job, events: [EventDraft], opening: JobRun? = nil, closing: RunClosing? = nil) {
        self.job = job
        self.before = before
        self.events = events
        self.opening = opening
        self.closing = closing
    }
}

extension JobQueries {
    /// The jobs of `ids`, locked until the transaction ends, leaving out rows another transaction holds
    /// (`FOR UPDATE SKIP LOCKED`); in id order, the order every batch locks in.
    public func lock(_ ids: [UUID]) async throws -> [Job] {
        try await connection.query(
            "SELECT \(unescaped: JobRow.columns) FROM docket.jobs WHERE id = ANY(\(ids)) ORDER BY id FOR UPDATE SKIP LOCKED",
            logger: logger).collect().map(JobRow.decode)
    }

    /// `lock(_:)` with which of each job's gates have anything to check.
    public func lockWithGates(_ ids: [UUID]) async throws -> [(Job, JobGates)] {
        try await connection.query("""
            SELECT \(unescaped: JobRow.columns), \(unescaped: JobRow.gateColumns) FROM docket.jobs
            WHERE id = ANY(\(ids)) ORDER BY id FOR UPDATE SKIP LOCKED
            """, logger: logger).collect().map {
            let read = try JobRow.decodeWithGates($0)
            return (read.job, read.gates)
        }
    }

    /// Writes a batch of changed jobs in one statement — each row from its full record, the columns any of them
    /// changed — with the runs they open, the closes of their open runs and all their events: a sweep's batch in one
    /// round trip. Every job must be locked by the caller's transaction. A run whose slot and attempt already have one
    /// is not opened, and its job is left unwritten with its events (the caller's per-job path names the refusal);
    /// every other change is written. Returns the ids written.
    @discardableResult
    public func updateMany(_ changes: [BatchChange], epoch: Int64? = nil) async throws -> Set<UUID> {
        guard !changes.isEmpty else { return [] }
        var changed: Set<String> = []
        for change in changes { changed.formUnion(try Self.changes(change.job, from: change.before, binding: false).columns) }
        let columns = Self.allColumns.filter(changed.contains)
        guard !columns.isEmpty else { return [] }
        var events: [JSONValue] = []
        for change in changes {
            if case .array(let rows) = EventQueries.rows(change.events, change: change.job.id) { events += rows }
        }
        if !events.isEmpty { Database.eventMark?.set() }
        let opening = changes.compactMap(\.opening)
        let rows = try await connection.query("""
            WITH opened AS (
                INSERT INTO docket.job_runs (id, job_id, tenant_id, run_number, attempt, scheduled_for, started_at, status,
                    instance_id, claimed_by, leader_epoch)
                SELECT o.id, o.job_id, o.tenant_id, o.run_number, o.attempt, o.scheduled_for, o.started_at, 'running',
                    o.instance_id, o.claimed_by, coalesce(o.leader_epoch, \(epoch))
                FROM jsonb_to_recordset(\(JSONValue.array(opening.map(\.openingRecord)))::jsonb) AS o(id uuid, job_id uuid,
                    tenant_id text, run_number int, attempt int, scheduled_for timestamptz, started_at timestamptz,
                    instance_id text, claimed_by text, leader_epoch bigint)
                ON CONFLICT (job_id, scheduled_for, attempt) DO NOTHING
                RETURNING job_id
            ), changed AS (
                UPDATE docket.jobs j SET \(unescaped: columns.map { "\($0) = r.\($0)" }.joined(separator: ", "))
                FROM jsonb_populate_recordset(NULL::docket.jobs, \(Self.records(changes.map(\.job)))::jsonb) r
                WHERE j.id = r.id AND (r.id <> ALL(\(opening.map(\.jobId))) OR r.id IN (SELECT job_id FROM opened))
                RETURNING j.id
            ), closed AS (
                UPDATE docket.job_runs x SET status = c.status, finished_at = c.finished_at, error_code = c.error_code,
                    error_message = c.error_message, actual_cost = c.actual_cost, result_summary = c.result_summary
                FROM jsonb_to_recordset(\(JSONValue.array(changes.compactMap(\.closing?.record)))::jsonb) AS c(job_id uuid,
                    status text, finished_at timestamptz, error_code text, error_message text, actual_cost numeric,
                    result_summary text)
                WHERE x.job_id = c.job_id AND x.status = 'running' AND c.job_id IN (SELECT id FROM changed)
            ), told AS (
                INSERT INTO docket.events (\(unescaped: EventQueries.insertedColumns))
                SELECT \(unescaped: EventQueries.selectedColumns), \(epoch)
                FROM jsonb_array_elements(\(JSONValue.array(events))::jsonb) WITH ORDINALITY AS a(e, n)
                WHERE (e->>'change')::uuid IN (SELECT id FROM changed)
                ORDER BY n
                RETURNING 1
            )
            SELECT id FROM changed
            """, logger: logger)
        var written: Set<UUID> = []
        for try await id in rows.decode(UUID.self) { written.insert(id) }
        let unwritten = changes.filter { $0.opening == nil && !written.contains($0.job.id) }.count
        guard unwritten == 0 else {
            throw DocketError(.internal, "a batch update left \(unwritten) of \(changes.count) locked jobs unwritten")
        }
        return written
    }
}
