import Foundation

/// Keyset pagination of a list: a cursor to continue `after` or go back `before`, a limit and an order.
public struct PageRequest: OperationArguments, Hashable {
    public enum Order: String, Sendable, Hashable, CaseIterable { case asc, desc }

    public static let maxLimit = 1000
    public static let defaultLimit = 50

    public var after: Cursor?
    public var before: Cursor?
    public var limit: Int
    public var order: Order

    public init(after: Cursor? = nil, before: Cursor? = nil, limit: Int = PageRequest.defaultLimit, order: Order = .asc) {
        self.after = after
        self.before = before
        self.limit = limit
        self.order = order
    }

    /// Reads `after`, `before`, `limit` (1–1000) and `order` from a request's arguments.
    public init(reading args: inout ArgumentReader, defaultOrder: Order = .asc) throws(DocketError) {
        self.after = try args.optionalString("after", maxLength: 1_000).map { text throws(DocketError) in try Cursor(text, field: "after") }
        self.before = try args.optionalString("before", maxLength: 1_000).map { text throws(DocketError) in try Cursor(text, field: "before") }
        guard after == nil || before == nil else { throw .validation(field: "before", "give after or before, not both") }
        self.limit = try args.optionalInt("limit", range: 1...PageRequest.maxLimit) ?? PageRequest.defaultLimit
        self.order = try args.optionalEnum("order", Order.self) ?? defaultOrder
    }

    public init(reading reader: inout ArgumentReader) throws(DocketError) { try self.init(reading: &reader, defaultOrder: .asc) }

    /// Whether rows are read in ascending key order (going back in an ascending list reads descending).
    public var scansAscending: Bool { (order == .asc) != (before != nil) }
}

/// A position in a list: the sort key of one row, opaque to clients.
public struct Cursor: Sendable, Hashable {
    public var parts: [String]

    public init(parts: [String]) { self.parts = parts }

    public init(_ text: String, field: String) throws(DocketError) {
        var base64 = text.replacingOccurrences(of: "-", with: "+").replacingOccurrences(of: "_", with: "/")
        while base64.count % 4 != 0 { base64 += "=" }
        guard let data = Data(base64Encoded: base64), let decoded = String(data: data, encoding: .utf8) else {
            throw .validation(field: field, "not a cursor returned by a list")
        }
        self.parts = decoded.split(separator: "|", omittingEmptySubsequences: false).map(String.init)
    }

    public var text: String {
        Data(parts.joined(separator: "|").utf8).base64EncodedString()
            .replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_")
            .replacingOccurrences(of: "=", with: "")
    }
}

/// One page of a list, with cursors to the next and previous pages.
public struct Page<Item: Sendable>: Sendable {
    public var items: [Item]
    public var nextCursor: Cursor?
    public var previousCursor: Cursor?

    public init(items: [Item], nextCursor: Cursor?, previousCursor: Cursor?) {
        self.items = items
        self.nextCursor = nextCursor
        self.previousCursor = previousCursor
    }
}
