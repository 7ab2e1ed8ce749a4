import DocketCore
import Foundation
import PostgresNIO

/// Reads a row's cells in column order, with the conversions every entity table needs (smallint and integer to
/// `Int`, numeric to `Money`, jsonb to objects and lists, text to a status). One decoder for jobs, tasks and runs:
/// by position, so no column name is looked up per cell.
struct RowReader {
    private var cells: PostgresRow.Iterator

    init(_ row: PostgresRow) { cells = row.makeIterator() }

    mutating func next<T: PostgresDecodable>(_ type: T.Type = T.self) throws -> T {
        guard let cell = cells.next() else { throw DocketError(.internal, "a row has fewer columns than its reader expects") }
        return try cell.decode(T.self)
    }

    mutating func smallint() throws -> Int { Int(try next(Int16.self)) }
    mutating func integer() throws -> Int { Int(try next(Int32.self)) }
    mutating func optionalInteger() throws -> Int? { try next(Int32?.self).map(Int.init) }
    mutating func money() throws -> Money? { try next(Decimal?.self).map { try Money(column: $0, field: "amount") } }
    mutating func object() throws -> [String: JSONValue] { try next(JSONValue.self).objectValue ?? [:] }
    mutating func list() throws -> [JSONValue] { try next(JSONValue.self).arrayValue ?? [] }

    mutating func value<E: RawRepresentable>(_ type: E.Type) throws -> E where E.RawValue == String {
        let text = try next(String.self)
        guard let value = E(rawValue: text) else { throw DocketError(.internal, "unknown \(E.self) \"\(text)\" in a row") }
        return value
    }

    mutating func optionalValue<E: RawRepresentable>(_ type: E.Type) throws -> E? where E.RawValue == String {
        try next(String?.self).flatMap(E.init(rawValue:))
    }
}

extension JSONValue {
    var arrayValue: [JSONValue]? {
        if case .array(let items) = self { return items }
        return nil
    }
}
