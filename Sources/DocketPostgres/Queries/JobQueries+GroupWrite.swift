import DocketCore
import Foundation
import PostgresNIO

/// One change of a job written without its row lock, as `updateIfUnchanged` writes it: the job as changed (its
/// `version` already bumped: the write is conditioned on the version before), the closing of its open run if it ends
/// one, and its events.
public struct ConditionedChange: Sendable {
    public var job: Job
    public var closing: RunClosing?
    public var events: [EventDraft]

    public init(job: Job, closing: RunClosing?, events: [EventDraft]) {
        self.job = job
        self.closing = closing
        self.events = events
    }
}

extension JobQueries {
    /// Many `updateIfUnchanged`s in one statement (the group commit of completions): each job is written only if its
    /// row is still at the version it was read at, and only the changes that took close their runs and append their
    /// events. Returns the ids written; a change left out lost its race and wrote nothing. At most one change per job.
    public func updateManyIfUnchanged(_ changes: [ConditionedChange]) async throws -> Set<UUID> {
        guard !changes.isEmpty else { return [] }
        guard Set(changes.map(\.job.id)).count == changes.count else {
            throw DocketError(.internal, "a group write holds two changes of one job")
        }
        var events: [JSONValue] = []
        for change in changes {
            if case .array(let rows) = EventQueries.rows(change.events, change: change.job.id) { events += rows }
        }
        if !events.isEmpty { Database.eventMark?.set() }
        let statement = GroupWriteStatement(records: Self.records(changes.map(\.job)),
                                            runs: .array(changes.compactMap(\.closing?.record)), events: .array(events))
        var written: Set<UUID> = []
        for try await id in try await connection.execute(statement, logger: logger) { written.insert(id) }
        return written
    }

    /// The columns a change can write: all but the job's identity and what is fixed at create.
    static let mutableColumns = allColumns.filter {
        !["id", "tenant_id", "created_by", "created_at", "idempotency_key", "queue", "kind", "args"].contains($0)
    }
}

/// `JobQueries.updateManyIfUnchanged`'s statement, prepared once per connection (planning an `UPDATE` of a table with
/// this many indexes cost about 8 ms, more than running it for a batch). Every row is written from its full record in
/// every column a change can write, so the text never varies: for a job whose row is unchanged since its read (the
/// condition), the columns its change did not touch are written with the values read. PostgreSQL compares old and new
/// values, so a column written with its own value does not count as changed: whether the update may be HOT is decided
/// as for an `UPDATE` of the changed columns alone.
struct GroupWriteStatement: PostgresPreparedStatement {
    typealias Row = UUID
    let records: JSONValue
    let runs: JSONValue
    let events: JSONValue

    static let sql = """
        WITH changed AS (
            UPDATE docket.jobs j SET \(JobQueries.mutableColumns.map { "\($0) = r.\($0)" }.joined(separator: ", "))
            FROM jsonb_populate_recordset(NULL::docket.jobs, $1::jsonb) r
            WHERE j.id = r.id AND j.version = r.version - 1
            RETURNING j.id
        ), closed AS (
            UPDATE docket.job_runs x SET status = c.status, finished_at = c.finished_at, error_code = c.error_code,
                error_message = c.error_message, actual_cost = c.actual_cost, result_summary = c.result_summary
            FROM jsonb_to_recordset($2::jsonb) AS c(job_id uuid, status text, finished_at timestamptz,
                error_code text, error_message text, actual_cost numeric, result_summary text)
            WHERE x.job_id = c.job_id AND x.status = 'running' AND c.job_id IN (SELECT id FROM changed)
        ), told AS (
            INSERT INTO docket.events (\(EventQueries.insertedColumns))
            SELECT \(EventQueries.selectedColumns), NULL::bigint
            FROM jsonb_array_elements($3::jsonb) WITH ORDINALITY AS a(e, n)
            WHERE (e->>'change')::uuid IN (SELECT id FROM changed)
            ORDER BY n
            RETURNING 1
        )
        SELECT id FROM changed
        """

    func makeBindings() throws -> PostgresBindings {
        var bindings = PostgresBindings(capacity: 3)
        try bindings.append(records)
        try bindings.append(runs)
        try bindings.append(events)
        return bindings
    }

    func decodeRow(_ row: PostgresRow) throws -> UUID { try row.decode(UUID.self) }
}
