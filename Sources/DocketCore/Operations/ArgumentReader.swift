import Foundation

/// Reads a request's `args` into typed values and notes every field it was asked for, so `finish()` can refuse the
/// fields nobody asked for: an operation's arguments struct is then the one list of what it accepts.
public struct ArgumentReader {
    public let arguments: Arguments
    private var asked: Set<String> = []

    public init(_ arguments: Arguments) { self.arguments = arguments }

    /// Refuses any field that was not read, naming it and the accepted ones.
    public func finish() throws(DocketError) {
        try arguments.refuseUnknown(asked)
    }

    private mutating func ask(_ name: String) -> Arguments {
        asked.insert(name)
        return arguments
    }

    /// Whether the field was given (null counts: it clears a value).
    public mutating func has(_ name: String) -> Bool { ask(name).has(name) }
    /// The field's raw value (null included), for values parsed by their own types.
    public mutating func raw(_ name: String) -> JSONValue? { ask(name).fields[name] }

    public mutating func string(_ name: String, maxLength: Int = 10_000) throws(DocketError) -> String {
        try ask(name).string(name, maxLength: maxLength)
    }

    public mutating func optionalString(_ name: String, maxLength: Int = 10_000) throws(DocketError) -> String? {
        try ask(name).optionalString(name, maxLength: maxLength)
    }

    public mutating func optionalInt(_ name: String, range: ClosedRange<Int> = Int(Int32.min)...Int(Int32.max)) throws(DocketError) -> Int? {
        try ask(name).optionalInt(name, range: range)
    }

    public mutating func optionalStrings(_ name: String, maxCount: Int = 100, maxLength: Int = 200) throws(DocketError) -> [String]? {
        try ask(name).optionalStrings(name, maxCount: maxCount, maxLength: maxLength)
    }

    /// A queue name, when given.
    public mutating func optionalQueue(_ name: String) throws(DocketError) -> String? {
        try optionalString(name, maxLength: 100).map { name0 throws(DocketError) in try QueueName.validate(name0, field: name) }
    }

    /// A kind, when given.
    public mutating func optionalKind(_ name: String) throws(DocketError) -> String? {
        try optionalString(name, maxLength: 200).map { kind throws(DocketError) in try QueueName.validateKind(kind, field: name) }
    }

    /// One queue name or a list of them (`queue: "mail"` or `queues: ["mail", "sms"]`).
    public mutating func optionalQueues(_ name: String) throws(DocketError) -> [String]? {
        guard let names = try optionalStrings(name, maxCount: 100, maxLength: 100) else { return nil }
        var valid: [String] = []
        for each in names { valid.append(try QueueName.validate(each, field: name)) }
        return valid
    }

    /// A list of kinds.
    public mutating func optionalKinds(_ name: String) throws(DocketError) -> [String]? {
        guard let kinds = try optionalStrings(name, maxCount: 100, maxLength: 200) else { return nil }
        var valid: [String] = []
        for each in kinds { valid.append(try QueueName.validateKind(each, field: name)) }
        return valid
    }

    public mutating func optionalBool(_ name: String) throws(DocketError) -> Bool? { try ask(name).optionalBool(name) }

    public mutating func optionalObject(_ name: String, maxBytes: Int = FieldLimits.metadataBytes) throws(DocketError) -> [String: JSONValue]? {
        try ask(name).optionalObject(name, maxBytes: maxBytes)
    }

    public mutating func optionalJSON(_ name: String, maxBytes: Int) throws(DocketError) -> JSONValue? {
        try ask(name).optionalJSON(name, maxBytes: maxBytes)
    }

    public mutating func optionalMoney(_ name: String) throws(DocketError) -> Money? { try ask(name).optionalMoney(name) }
    public mutating func optionalTime(_ name: String) throws(DocketError) -> Date? { try ask(name).optionalTime(name) }
    public mutating func uuid(_ name: String) throws(DocketError) -> UUID { try ask(name).uuid(name) }

    public mutating func optionalUUID(_ name: String) throws(DocketError) -> UUID? {
        guard let value = raw(name), value != .null else { return nil }
        return try arguments.uuid(name)
    }

    public mutating func optionalEnum<E: RawRepresentable & CaseIterable>(_ name: String, _ type: E.Type) throws(DocketError) -> E?
    where E.RawValue == String {
        try ask(name).optionalEnum(name, type)
    }

    /// One value or a list of the enum's values (`status: "running"` or `status: ["draft", "running"]`).
    public mutating func values<E: RawRepresentable & CaseIterable>(_ name: String, _ type: E.Type) throws(DocketError) -> [E]
    where E.RawValue == String {
        func value(_ text: String) throws(DocketError) -> E {
            guard let value = E(rawValue: text) else {
                throw .validation(field: name, "unknown value \"\(text.prefix(100))\"; known: "
                    + E.allCases.map(\.rawValue).joined(separator: ", "))
            }
            return value
        }
        switch raw(name) {
        case nil, .null?: return []
        case .string(let text)?: return [try value(text)]
        case .array(let items)? where items.count <= 100:
            var values: [E] = []
            for item in items {
                guard case .string(let text) = item else { throw .validation(field: name, "must be a list of strings") }
                values.append(try value(text))
            }
            return values
        default: throw .validation(field: name, "must be one value or a list of them")
        }
    }

    /// A field the caller must give.
    public mutating func required<T>(_ name: String, _ value: T?, _ hint: String = "is required") throws(DocketError) -> T {
        guard let value else { throw .validation(field: name, hint) }
        return value
    }

    /// The optional `tenant_id` every tenant-scoped operation takes.
    public mutating func tenant() throws(DocketError) -> String? { try optionalString("tenant_id", maxLength: 200) }

    /// An optional `expected_version`.
    public mutating func expectedVersion() throws(DocketError) -> Int64? {
        try optionalInt("expected_version", range: 1...Int(Int32.max)).map(Int64.init)
    }
}

/// The typed arguments of an operation: read from `args`, validated, and nothing else accepted.
public protocol OperationArguments: Sendable {
    init(reading reader: inout ArgumentReader) throws(DocketError)
}

extension OperationArguments {
    /// Reads `arguments`, refusing any field the type does not take.
    public init(_ arguments: Arguments) throws(DocketError) {
        var reader = ArgumentReader(arguments)
        try self.init(reading: &reader)
        try reader.finish()
    }

    /// From wire fields (tests and tools).
    public init(_ fields: [String: JSONValue]) throws(DocketError) { try self.init(Arguments(fields)) }
}

/// Arguments of an operation that takes none but the optional `tenant_id`.
public struct NoArguments: OperationArguments, Hashable {
    public var tenantId: String?

    public init(tenantId: String? = nil) { self.tenantId = tenantId }

    public init(reading reader: inout ArgumentReader) throws(DocketError) { tenantId = try reader.tenant() }
}

/// Arguments of an operation that takes nothing at all (`hello`, `ping`).
public struct Nothing: OperationArguments, Hashable {
    public init() {}
    public init(reading reader: inout ArgumentReader) throws(DocketError) {}
}
