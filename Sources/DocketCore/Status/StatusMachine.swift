/// A status machine as data: the allowed `(from, to)` rows, some reserved to named operations.
///
/// Every transition of jobs and tasks is checked here and nowhere else. A refusal is `INVALID_TRANSITION` whose
/// message names both states and what the current state allows, and whose details carry them for programs.
public struct StatusMachine<Status: RawRepresentable & Hashable & Sendable & CaseIterable>: Sendable
where Status.RawValue == String, Status.AllCases: Sendable {
    /// One allowed transition; `onlyVia` lists the operations that may take it (empty: any operation).
    public struct Row: Sendable {
        public let from: Status
        public let to: Status
        public let onlyVia: [String]

        public init(_ from: Status, _ to: Status, onlyVia: [String] = []) {
            self.from = from
            self.to = to
            self.onlyVia = onlyVia
        }
    }

    /// The entity kind, for messages ("job", "task").
    public let entity: String
    public let rows: [Row]

    public init(entity: String, rows: [Row]) {
        self.entity = entity
        self.rows = rows
    }

    /// The row for `from → to`, if that transition exists at all.
    public func row(from: Status, to: Status) -> Row? {
        rows.first { $0.from == from && $0.to == to }
    }

    /// Whether `operation` may move an entity from `from` to `to`.
    public func allows(from: Status, to: Status, via operation: String) -> Bool {
        guard let row = row(from: from, to: to) else { return false }
        return row.onlyVia.isEmpty || row.onlyVia.contains(operation)
    }

    /// Checks `from → to` for `operation`, throwing `INVALID_TRANSITION` that says what would be allowed.
    public func check(id: String, from: Status, to: Status, via operation: String) throws(DocketError) {
        guard !allows(from: from, to: to, via: operation) else { return }
        let subject = "\(entity) \(id) is \(from.rawValue)"
        let message: String
        if let row = row(from: from, to: to) {
            message = "\(subject); \(from.rawValue) → \(to.rawValue) needs \(row.onlyVia.joined(separator: " or "))"
        } else {
            message = "\(subject); \(from.rawValue) → \(to.rawValue) is not allowed (from \(from.rawValue): "
                + allowedDescription(from: from) + ")"
        }
        throw DocketError(.invalidTransition, message, details: [
            "\(entity)_id": .string(id),
            "from": .string(from.rawValue),
            "to": .string(to.rawValue),
            "operation": .string(operation),
            "allowed": .array(rows.filter { $0.from == from }.map { .string($0.to.rawValue) }),
        ])
    }

    /// The targets reachable from `from`, with their reserved operations, in table order.
    public func allowedDescription(from: Status) -> String {
        let targets = rows.filter { $0.from == from }.map { row in
            row.onlyVia.isEmpty ? row.to.rawValue : "\(row.to.rawValue) via \(row.onlyVia.joined(separator: "/"))"
        }
        return targets.isEmpty ? "nothing" : targets.joined(separator: ", ")
    }
}
