import DocketCore
import Foundation

/// A value the protocol sends: its JSON as the wire shows it (SPEC's wire names). Every answer's shape is written
/// here, in `DocketProtocol/Wire`, and nowhere else.
public protocol WireEncodable: Sendable {
    var wire: JSONValue { get }
    /// Appends `wire`'s JSON text to `out` (a response's `data`); objects with a shape of their own write it without
    /// building `wire` first.
    func writeWire(into out: inout [UInt8])
}

extension WireEncodable {
    public func writeWire(into out: inout [UInt8]) { JSONWriter.write(wire, into: &out, sortingKeys: false) }
}

extension JSONValue: WireEncodable {
    public var wire: JSONValue { self }
}

extension Array: WireEncodable where Element: WireEncodable {
    public var wire: JSONValue { .array(map(\.wire)) }

    public func writeWire(into out: inout [UInt8]) {
        out.append(UInt8(ascii: "["))
        for (index, element) in enumerated() {
            if index > 0 { out.append(UInt8(ascii: ",")) }
            element.writeWire(into: &out)
        }
        out.append(UInt8(ascii: "]"))
    }
}

/// `{"<key>": [items]}`: a list answered under one name (`job.create_many`'s `jobs`).
public struct WireList<Item: WireEncodable>: WireObject {
    let key: String
    let items: [Item]

    public init(_ key: String, _ items: [Item]) {
        self.key = key
        self.items = items
    }

    public func members<Members: WireMembers>(into members: inout Members) { members.add(key, list: items) }
}

extension Page: WireEncodable, WireObject where Item: WireEncodable {
    /// `{items, next_cursor, prev_cursor}`.
    public func members<Members: WireMembers>(into members: inout Members) {
        members.add("items", list: items)
        members.add("next_cursor", nextCursor?.text)
        members.add("prev_cursor", previousCursor?.text)
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
