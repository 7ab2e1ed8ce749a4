/// How large the free-form fields may be, in bytes of their JSON text (docs/protocol.md, "Limits"): a request cannot
/// make docketd store, or send back on every read, more than this.
public enum FieldLimits {
    /// `metadata` of jobs, tasks and links, a `job.list` metadata filter, and any other object argument.
    public static let metadataBytes = 64 << 10
    /// `execution_context` (jobs, tasks, heartbeats, checkpoints), `context_updates`, and a checkpoint's `state`.
    public static let contextBytes = 256 << 10
    /// A job's `output`.
    public static let outputBytes = 256 << 10
    /// A job's `args`.
    public static let argsBytes = 256 << 10
}

extension JSONValue {
    /// The length in bytes of this value's compact JSON text (as the wire writes it).
    public var encodedByteCount: Int {
        switch self {
        case .null: return 4
        case .bool(let flag): return flag ? 4 : 5
        case .number(let number):
            guard number.isFinite else { return 4 }
            if number.rounded() == number, abs(number) < 9_007_199_254_740_992 { return String(Int64(number)).utf8.count }
            return number.description.utf8.count
        case .string(let text): return Self.encodedByteCount(of: text)
        case .array(let items): return items.reduce(2 + max(items.count - 1, 0)) { $0 + $1.encodedByteCount }
        case .object(let members):
            return members.reduce(2 + max(members.count - 1, 0)) { $0 + Self.encodedByteCount(of: $1.key) + 1 + $1.value.encodedByteCount }
        }
    }

    static func encodedByteCount(of text: String) -> Int {
        var count = 2
        for byte in text.utf8 {
            switch byte {
            case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "\n"), UInt8(ascii: "\r"), UInt8(ascii: "\t"): count += 2
            case 0..<0x20: count += 6
            default: count += 1
            }
        }
        return count
    }

    /// Refuses a value whose JSON text is longer than `limit` bytes, naming `field`.
    public func checkSize(_ limit: Int, field: String) throws(DocketError) {
        let size = encodedByteCount
        guard size <= limit else {
            throw .validation(field: field, "is \(size) bytes of JSON; at most \(limit) are allowed")
        }
    }
}
