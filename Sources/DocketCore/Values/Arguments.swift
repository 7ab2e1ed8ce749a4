import Foundation

/// The `args` object of a request, read field by field; every problem is a `VALIDATION_ERROR` naming the field.
public struct Arguments: Sendable {
    public var fields: [String: JSONValue]

    public init(_ fields: [String: JSONValue]) { self.fields = fields }

    public init(json: JSONValue?) throws(DocketError) {
        switch json {
        case nil, .null?: self.fields = [:]
        case .object(let fields)?: self.fields = fields
        default: throw .validation(field: "args", "must be an object")
        }
    }

    /// Whether the field was given (null counts as given: it clears a value).
    public func has(_ name: String) -> Bool { fields[name] != nil }

    /// Refuses any field outside `allowed`.
    public func refuseUnknown(_ allowed: Set<String>) throws(DocketError) {
        if let unknown = fields.keys.sorted().first(where: { !allowed.contains($0) }) {
            throw .validation(field: unknown, "unknown field; allowed: " + allowed.sorted().joined(separator: ", "))
        }
    }

    public func string(_ name: String, maxLength: Int = 10_000) throws(DocketError) -> String {
        guard let value = try optionalString(name, maxLength: maxLength) else {
            throw .validation(field: name, "is required")
        }
        return value
    }

    public func optionalString(_ name: String, maxLength: Int = 10_000) throws(DocketError) -> String? {
        switch fields[name] {
        case nil, .null?: return nil
        case .string(let value)?:
            guard value.count <= maxLength else { throw .validation(field: name, "longer than \(maxLength) characters") }
            return value
        default: throw .validation(field: name, "must be a string")
        }
    }

    public func optionalInt(_ name: String, range: ClosedRange<Int> = Int(Int32.min)...Int(Int32.max)) throws(DocketError) -> Int? {
        switch fields[name] {
        case nil, .null?: return nil
        case .number(let number)?:
            guard number.rounded() == number, let value = Int(exactly: number) else {
                throw .validation(field: name, "must be a whole number, got \(number)")
            }
            guard range.contains(value) else {
                throw .validation(field: name, "must be between \(range.lowerBound) and \(range.upperBound), got \(value)")
            }
            return value
        default: throw .validation(field: name, "must be a number")
        }
    }

    /// An optional array of strings, each at most `maxLength` characters, at most `maxCount` of them.
    public func optionalStrings(_ name: String, maxCount: Int = 100, maxLength: Int = 200) throws(DocketError) -> [String]? {
        switch fields[name] {
        case nil, .null?: return nil
        case .array(let values)?:
            guard values.count <= maxCount else { throw .validation(field: name, "at most \(maxCount) entries") }
            var strings: [String] = []
            for value in values {
                guard case .string(let text) = value else { throw .validation(field: name, "must be an array of strings") }
                guard text.count <= maxLength else { throw .validation(field: name, "an entry is longer than \(maxLength) characters") }
                strings.append(text)
            }
            return strings
        default: throw .validation(field: name, "must be an array of strings")
        }
    }

    public func optionalBool(_ name: String) throws(DocketError) -> Bool? {
        switch fields[name] {
        case nil, .null?: return nil
        case .bool(let value)?: return value
        default: throw .validation(field: name, "must be true or false")
        }
    }

    /// An optional object, at most `maxBytes` of JSON text (`FieldLimits`).
    public func optionalObject(_ name: String, maxBytes: Int = FieldLimits.metadataBytes) throws(DocketError) -> [String: JSONValue]? {
        switch fields[name] {
        case nil, .null?: return nil
        case .object(let value)?:
            try JSONValue.object(value).checkSize(maxBytes, field: name)
            return value
        default: throw .validation(field: name, "must be an object")
        }
    }

    /// An optional value of any JSON type (null counts as absent), at most `maxBytes` of JSON text.
    public func optionalJSON(_ name: String, maxBytes: Int) throws(DocketError) -> JSONValue? {
        guard let value = fields[name], value != .null else { return nil }
        try value.checkSize(maxBytes, field: name)
        return value
    }

    public func optionalMoney(_ name: String) throws(DocketError) -> Money? {
        switch fields[name] {
        case nil, .null?: return nil
        case .string(let text)?: return try Money(text, field: name)
        default: throw .validation(field: name, "must be a decimal string such as \"15.00\"")
        }
    }

    public func optionalTime(_ name: String) throws(DocketError) -> Date? {
        switch fields[name] {
        case nil, .null?: return nil
        case let value?: return try Timestamp.parse(value, field: name)
        }
    }

    public func uuid(_ name: String) throws(DocketError) -> UUID {
        guard let text = try optionalString(name, maxLength: 64) else { throw .validation(field: name, "is required") }
        guard let id = UUID(uuidString: text) else { throw .validation(field: name, "must be a UUID, got \"\(text)\"") }
        return id
    }

    public func optionalEnum<E: RawRepresentable & CaseIterable>(_ name: String, _: E.Type) throws(DocketError) -> E?
    where E.RawValue == String {
        guard let text = try optionalString(name, maxLength: 100) else { return nil }
        guard let value = E(rawValue: text) else {
            throw .validation(field: name, "must be one of " + E.allCases.map(\.rawValue).joined(separator: ", ")
                + ", got \"\(text)\"")
        }
        return value
    }
}

extension Arguments {
    /// The first argument (by name) with U+0000 in a key or string anywhere inside it, and the path to it.
    public func fieldHoldingNUL() -> (name: String, path: String)? {
        for name in fields.keys.sorted() {
            if let path = fields[name]?.pathToNUL(from: name) { return (name, path) }
        }
        return nil
    }
}

extension JSONValue {
    /// The path (`metadata.key`, `tags[2]`) to the first key or string holding U+0000, or nil.
    func pathToNUL(from path: String) -> String? {
        switch self {
        case .string(let text): return text.utf8.contains(0) ? path : nil
        case .array(let items):
            for (index, item) in items.enumerated() {
                if let found = item.pathToNUL(from: "\(path)[\(index)]") { return found }
            }
            return nil
        case .object(let members):
            for key in members.keys.sorted() {
                if key.utf8.contains(0) { return path + "." + key.replacingOccurrences(of: "\u{0}", with: "\\u0000") }
                if let found = members[key]?.pathToNUL(from: "\(path).\(key)") { return found }
            }
            return nil
        default: return nil
        }
    }
}
