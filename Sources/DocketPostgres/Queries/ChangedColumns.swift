import DocketCore
import PostgresNIO

/// The `SET` list of an `UPDATE` that writes only what changed: each column is compared before it is encoded, so an
/// unchanged JSON document is neither encoded nor sent.
struct ChangedColumns {
    private(set) var assignments: [String] = []
    private(set) var binds = PostgresBindings()

    /// Sets `column` to `new` when it differs from `old`; `cast` is appended to the parameter (`::numeric`).
    mutating func set<T: Equatable, V: PostgresThrowingDynamicTypeEncodable>(
        _ column: String, _ new: T, was old: T, cast: String = "", _ encode: (T) -> V?
    ) throws {
        guard new != old else { return }
        try binds.append(encode(new))
        assignments.append("\(column) = $\(binds.count)\(cast)")
    }

    /// `set` for a value that is its own encoding.
    mutating func set<V: PostgresThrowingDynamicTypeEncodable & Equatable>(_ column: String, _ new: V?, was old: V?, cast: String = "") throws {
        try set(column, new, was: old, cast: cast) { $0 }
    }

    /// `UPDATE table SET <changes> WHERE id = <id>`, followed in the same statement by the insert of `events` (as
    /// `EventQueries.appendMany` writes them) when there are any; nil when nothing changed and nothing is told.
    func update<ID: PostgresThrowingDynamicTypeEncodable>(
        _ table: String, id: ID, events: [EventDraft] = [], epoch: Int64? = nil
    ) throws -> PostgresQuery? {
        guard !assignments.isEmpty || !events.isEmpty else { return nil }
        var binds = self.binds
        try binds.append(id)
        let update = assignments.isEmpty
            ? "SELECT id FROM \(table) WHERE id = $\(binds.count)"
            : "UPDATE \(table) SET \(assignments.joined(separator: ", ")) WHERE id = $\(binds.count) RETURNING id"
        guard !events.isEmpty else { return PostgresQuery(unsafeSQL: update, binds: binds) }
        try binds.append(EventQueries.rows(events))
        let rows = binds.count
        binds.append(epoch)
        return PostgresQuery(unsafeSQL: """
            WITH changed AS (\(update))
            INSERT INTO docket.events (\(EventQueries.insertedColumns))
            SELECT \(EventQueries.selectedColumns), $\(binds.count)::bigint
            FROM changed, jsonb_array_elements($\(rows)::jsonb) WITH ORDINALITY AS a(e, n)
            ORDER BY n
            """, binds: binds)
    }
}
