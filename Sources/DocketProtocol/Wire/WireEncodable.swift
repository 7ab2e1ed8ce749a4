import DocketCore
import Foundation

/// A value the protocol sends: its JSON as the wire shows it (SPEC's wire names). Every answer's shape is written
/// here, in `DocketProtocol/Wire`, and nowhere else.
public protocol WireEncodable: Sendable {
    var wire: JSONValue { get }
}

extension JSONValue: WireEncodable {
    public var wire: JSONValue { self }
}

extension Array: WireEncodable where Element: WireEncodable {
    public var wire: JSONValue { .array(map(\.wire)) }
}

extension Page: WireEncodable where Item: WireEncodable {
    /// `{items, next_cursor, prev_cursor}`.
    public var wire: JSONValue {
        .object(["items": .array(items.map(\.wire)), "next_cursor": nextCursor.map { .string($0.text) } ?? .null,
                 "prev_cursor": previousCursor.map { .string($0.text) } ?? .null])
    }
}

/// Wire forms of optional scalars.
extension Optional where Wrapped == String {
    var wire: JSONValue { map(JSONValue.string) ?? .null }
}

extension Optional where Wrapped == Date {
    var wire: JSONValue { map { .string(Timestamp.format($0)) } ?? .null }
}

extension Optional where Wrapped == Money {
    var wire: JSONValue { map { .string($0.description) } ?? .null }
}

extension Optional where Wrapped == UUID {
    var wire: JSONValue { map { .string($0.uuidString.lowercased()) } ?? .null }
}

extension Optional where Wrapped: BinaryInteger {
    var wire: JSONValue { map { .number(Double($0)) } ?? .null }
}

extension Date {
    var wire: JSONValue { .string(Timestamp.format(self)) }
}

extension UUID {
    var wire: JSONValue { .string(uuidString.lowercased()) }
}

extension BinaryInteger {
    var wire: JSONValue { .number(Double(self)) }
}
