import DocketCore
import Foundation

/// A wire object whose shape is declared once, as the members it adds (`members(into:)`): collected as a `JSONValue`
/// for `wire`, or written straight to the response's bytes for `writeWire(into:)`, without the dictionary in between
/// (for `job.create_many`'s answer of 100 jobs, building and walking those dictionaries was a tenth of docketd's CPU).
public protocol WireObject: WireEncodable {
    func members<Members: WireMembers>(into members: inout Members)
}

extension WireObject {
    public var wire: JSONValue {
        var members = CollectedMembers(capacity: 16)
        self.members(into: &members)
        return .object(members.fields)
    }

    public func writeWire(into out: inout [UInt8]) {
        WrittenMembers.object(into: &out) { self.members(into: &$0) }
    }
}

/// Where a wire object's members go.
public protocol WireMembers {
    mutating func add(_ key: String, _ value: JSONValue)
    mutating func add(_ key: String, _ value: String?)
    mutating func add(_ key: String, _ value: Bool)
    mutating func add(_ key: String, integer value: Int64?)
    mutating func add<Item: WireEncodable>(_ key: String, list: [Item])
}

extension WireMembers {
    // The wire forms of these scalars are stated once, in WireEncodable.swift.
    public mutating func add(_ key: String, _ value: Date?) { add(key, value.wire) }
    public mutating func add(_ key: String, _ value: UUID?) { add(key, value.wire) }
    public mutating func add(_ key: String, _ value: Money?) { add(key, value.wire) }
    public mutating func add<Integer: BinaryInteger>(_ key: String, _ value: Integer?) {
        add(key, integer: value.map { Int64($0) })
    }
}

/// Members collected as a JSON object.
struct CollectedMembers: WireMembers {
    var fields: [String: JSONValue]

    init(capacity: Int) { fields = Dictionary(minimumCapacity: capacity) }

    mutating func add(_ key: String, _ value: JSONValue) { fields[key] = value }
    mutating func add(_ key: String, _ value: String?) { fields[key] = value.map(JSONValue.string) ?? .null }
    mutating func add(_ key: String, _ value: Bool) { fields[key] = .bool(value) }
    mutating func add(_ key: String, integer value: Int64?) { fields[key] = value.map { .number(Double($0)) } ?? .null }
    mutating func add<Item: WireEncodable>(_ key: String, list: [Item]) { fields[key] = list.wire }
}

/// Members written as JSON text, in the order they are added.
struct WrittenMembers: WireMembers {
    private var out: [UInt8] = []
    private var first = true

    /// Writes one object to `out`: `{`, what `body` adds, `}`.
    static func object(into out: inout [UInt8], _ body: (inout WrittenMembers) -> Void) {
        var members = WrittenMembers()
        swap(&members.out, &out)
        members.out.append(UInt8(ascii: "{"))
        body(&members)
        members.out.append(UInt8(ascii: "}"))
        swap(&members.out, &out)
    }

    private mutating func key(_ key: String) {
        if !first { out.append(UInt8(ascii: ",")) }
        first = false
        JSONWriter.writeString(key, into: &out)
        out.append(UInt8(ascii: ":"))
    }

    mutating func add(_ key: String, _ value: JSONValue) {
        self.key(key)
        JSONWriter.write(value, into: &out, sortingKeys: false)
    }

    mutating func add(_ key: String, _ value: String?) {
        self.key(key)
        if let value { JSONWriter.writeString(value, into: &out) } else { out.append(contentsOf: "null".utf8) }
    }

    mutating func add(_ key: String, _ value: Bool) {
        self.key(key)
        out.append(contentsOf: (value ? "true" : "false").utf8)
    }

    mutating func add(_ key: String, integer value: Int64?) {
        self.key(key)
        if let value { JSONWriter.writeInteger(value, into: &out) } else { out.append(contentsOf: "null".utf8) }
    }

    mutating func add<Item: WireEncodable>(_ key: String, list: [Item]) {
        self.key(key)
        list.writeWire(into: &out)
    }
}
