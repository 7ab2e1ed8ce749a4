import DocketCore
import PostgresNIO

/// The `SET` list of an `UPDATE` that writes only what changed: each column is compared before it is encoded, so an
/// unchanged JSON document is neither encoded nor sent.
struct ChangedColumns {
    private(set) var assignments: [String] = []
    /// The columns that changed, in the order they were compared.
    private(set) var columns: [String] = []
    private(set) var binds = PostgresBindings()
    /// Whether changed values are encoded; without, only `columns` is kept (which columns a batch writes).
    let binding: Bool

    init(binding: Bool = true) {
        self.binding = binding
    }

    /// Sets `column` to `new` when it differs from `old`; `cast` is appended to the parameter (`::numeric`).
    mutating func set<T: Equatable, V: PostgresThrowingDynamicTypeEncodable>(
        _ column: String, _ new: T, was old: T, cast: String = "", _ encode: (T) -> V?
    ) throws {
        guard new != old else { return }
        columns.append(column)
        guard binding else { return }
        try binds.append(encode(new))
        assignments.append("\(column) = $\(binds.count)\(cast)")
    }

    /// `set` for a value that is its own encoding.
    mutating func set<V: PostgresThrowingDynamicTypeEncodable & Equatable>(_ column: String, _ new: V?, was old: V?, cast: String = "") throws {
        try set(column, new, was: old, cast: cast) { $0 }
    }

    /// Statements written in the same statement as the update (data-modifying CTEs), with their parameters taken
    /// from `binds` through `parameter(_:cast:)`.
    private(set) var companions: [String] = []

    /// Binds `value` for a companion statement; its placeholder (`$7::numeric`).
    mutating func parameter<V: PostgresThrowingDynamicTypeEncodable>(_ value: V?, cast: String = "") throws -> String {
        try binds.append(value)
        return "$\(binds.count)\(cast)"
    }

    /// Adds a data-modifying statement to run in the same statement as the update (`parameter` binds its values).
    mutating func alongside(_ sql: String) {
        companions.append(sql)
    }

    /// `UPDATE table SET <changes> WHERE id = <id>`, followed in the same statement by the insert of `events` (as
    /// `EventQueries.appendMany` writes them) when there are any, with the companions beside it; nil when nothing
    /// changed, nothing is told and nothing goes alongside.
    func update<ID: PostgresThrowingDynamicTypeEncodable>(
        _ table: String, id: ID, events: [EventDraft] = [], epoch: Int64? = nil
    ) throws -> PostgresQuery? {
        guard !assignments.isEmpty || !events.isEmpty || !companions.isEmpty else { return nil }
        var binds = self.binds
        try binds.append(id)
        let update = assignments.isEmpty
            ? "SELECT id FROM \(table) WHERE id = $\(binds.count)"
            : "UPDATE \(table) SET \(assignments.joined(separator: ", ")) WHERE id = $\(binds.count) RETURNING id"
        let beside = companions.enumerated().map { "beside\($0.offset) AS (\($0.element)), " }.joined()
        guard !events.isEmpty else {
            return PostgresQuery(unsafeSQL: companions.isEmpty ? update : "WITH \(beside.dropLast(2)) \(update)", binds: binds)
        }
        let told = try Self.eventInsert(events, epoch: epoch, binds: &binds)
        return PostgresQuery(unsafeSQL: "WITH \(beside)changed AS (\(update)) \(told)", binds: binds)
    }

    /// The insert of `events`, one row per event for each row `changed` returned, its parameters appended to `binds`.
    private static func eventInsert(_ events: [EventDraft], epoch: Int64?, binds: inout PostgresBindings) throws -> String {
        try binds.append(EventQueries.rows(events))
        let rows = binds.count
        binds.append(epoch)
        return """
            INSERT INTO docket.events (\(EventQueries.insertedColumns))
            SELECT \(EventQueries.selectedColumns), $\(binds.count)::bigint
            FROM changed, jsonb_array_elements($\(rows)::jsonb) WITH ORDINALITY AS a(e, n)
            ORDER BY n
            """
    }

    /// `update` conditioned on the row still being at `version` (an optimistic write with no lock held): the
    /// `UPDATE` first, the companions (which must test `EXISTS (SELECT 1 FROM changed)`) and the events' insert after
    /// it, all in one statement whose one row counts the rows changed, 0 when another write came first.
    func update<ID: PostgresThrowingDynamicTypeEncodable>(
        _ table: String, id: ID, ifVersion version: Int64, events: [EventDraft] = [], epoch: Int64? = nil
    ) throws -> PostgresQuery {
        var binds = self.binds
        try binds.append(id)
        let id = binds.count
        binds.append(version)
        let changed = "changed AS (UPDATE \(table) SET \(assignments.joined(separator: ", ")) WHERE id = $\(id) AND version = $\(binds.count) RETURNING id)"
        var parts = [changed] + companions.enumerated().map { "beside\($0.offset) AS (\($0.element))" }
        if !events.isEmpty { parts.append("told AS (\(try Self.eventInsert(events, epoch: epoch, binds: &binds)) RETURNING 1)") }
        return PostgresQuery(unsafeSQL: "WITH \(parts.joined(separator: ", ")) SELECT count(*)::int FROM changed", binds: binds)
    }
}
