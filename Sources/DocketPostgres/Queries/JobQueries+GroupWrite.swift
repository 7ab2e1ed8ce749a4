import DocketCore
import Foundation
import PostgresNIO

/// One change of a job written without its row lock, as `updateIfUnchanged` writes it: the job as changed (its
/// `version` already bumped), the closing of its open run if it ends one, and its events.
public struct ConditionedChange: Sendable {
    public var job: Job
    public var before: Job
    public var closing: RunClosing?
    public var events: [EventDraft]

    public init(job: Job, before: Job, closing: RunClosing?, events: [EventDraft]) {
        self.job = job
        self.before = before
        self.closing = closing
        self.events = events
    }
}

extension JobQueries {
    /// Many `updateIfUnchanged`s in one statement (the group commit of completions): each job is written only if its
    /// row is still at the version it was read at, and only the changes that took close their runs and append their
    /// events. Returns the ids written; a change left out lost its race and wrote nothing. At most one change per job.
    ///
    /// Each row is written from its full record, in the columns any change of the batch touched: for a job whose
    /// row is unchanged since its read, the columns it did not change are written with the values read.
    public func updateManyIfUnchanged(_ changes: [ConditionedChange]) async throws -> Set<UUID> {
        guard !changes.isEmpty else { return [] }
        guard Set(changes.map(\.job.id)).count == changes.count else {
            throw DocketError(.internal, "a group write holds two changes of one job")
        }
        var changed: Set<String> = ["version"]
        for change in changes { changed.formUnion(try Self.changes(change.job, from: change.before, binding: false).columns) }
        let columns = Self.allColumns.filter(changed.contains)
        let runs: JSONValue = .array(changes.compactMap(\.closing?.record))
        var events: [JSONValue] = []
        for change in changes {
            if case .array(let rows) = EventQueries.rows(change.events, change: change.job.id) { events += rows }
        }
        if !events.isEmpty { Database.eventMark?.set() }
        let rows = try await connection.query("""
            WITH changed AS (
                UPDATE docket.jobs j SET \(unescaped: columns.map { "\($0) = r.\($0)" }.joined(separator: ", "))
                FROM jsonb_populate_recordset(NULL::docket.jobs, \(Self.records(changes.map(\.job)))::jsonb) r
                WHERE j.id = r.id AND j.version = r.version - 1
                RETURNING j.id
            ), closed AS (
                UPDATE docket.job_runs x SET status = c.status, finished_at = c.finished_at, error_code = c.error_code,
                    error_message = c.error_message, actual_cost = c.actual_cost, result_summary = c.result_summary
                FROM jsonb_to_recordset(\(runs)::jsonb) AS c(job_id uuid, status text, finished_at timestamptz,
                    error_code text, error_message text, actual_cost numeric, result_summary text)
                WHERE x.job_id = c.job_id AND x.status = 'running' AND c.job_id IN (SELECT id FROM changed)
            ), told AS (
                INSERT INTO docket.events (\(unescaped: EventQueries.insertedColumns))
                SELECT \(unescaped: EventQueries.selectedColumns), NULL::bigint
                FROM jsonb_array_elements(\(JSONValue.array(events))::jsonb) WITH ORDINALITY AS a(e, n)
                WHERE (e->>'change')::uuid IN (SELECT id FROM changed)
                ORDER BY n
                RETURNING 1
            )
            SELECT id FROM changed
            """, logger: logger).collect()
        return Set(try rows.map { try $0.decode(UUID.self) })
    }
}
