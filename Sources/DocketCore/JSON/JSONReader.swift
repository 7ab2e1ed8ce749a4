/// Reads JSON text strictly: the UTF-8 is validated, a key repeated within one object is refused (parsers disagree
/// on which copy wins, so a line that carries two is ambiguous), nesting is bounded, and numbers must be finite.
///
/// Hand-written over bytes: it allocates only for the values it returns, cannot be driven into deep recursion, and
/// can hand back the raw text of a top-level member (a request `id` is echoed exactly as it was sent).
public struct JSONReader {
    /// Why a text is not accepted.
    public enum Failure: Error, Sendable, Equatable {
        case invalid(String)
        case duplicateKey(String)
        case tooDeep(Int)

        public var message: String {
            switch self {
            case .invalid(let why): "the line is not valid JSON: \(why)"
            case .duplicateKey(let key): "the key \"\(key.count > 60 ? String(key.prefix(60)) + "…" : key)\" appears twice in one object"
            case .tooDeep(let limit): "the JSON nests deeper than \(limit) levels"
            }
        }
    }

    public static let defaultMaxDepth = 64

    private let bytes: UnsafeBufferPointer<UInt8>
    private var index = 0
    private let maxDepth: Int
    /// Set when a string (key or value) contained U+0000, which no PostgreSQL text or jsonb value can hold.
    public private(set) var sawNUL = false

    private init(_ bytes: UnsafeBufferPointer<UInt8>, maxDepth: Int) {
        self.bytes = bytes
        self.maxDepth = maxDepth
    }

    /// Parses one JSON value that fills `text` (whitespace around it aside).
    public static func parse(_ text: some Collection<UInt8>, maxDepth: Int = defaultMaxDepth) throws(Failure) -> JSONValue {
        try withBytes(text) { (bytes: UnsafeBufferPointer<UInt8>) throws(Failure) -> JSONValue in
            var reader = JSONReader(bytes, maxDepth: maxDepth)
            reader.skipWhitespace()
            let value = try reader.value(depth: 1)
            reader.skipWhitespace()
            guard reader.index == bytes.count else { throw .invalid("unexpected text after the value at byte \(reader.index)") }
            return value
        }
    }

    /// A top-level object: its members, the raw text of the member named `rawMember` (if present), and whether any
    /// string in it contained U+0000.
    public struct Envelope: Sendable {
        public var members: [String: JSONValue]
        public var raw: [UInt8]?
        public var sawNUL: Bool
    }

    /// Parses a text that must be one JSON object, keeping the raw text of `rawMember`.
    public static func envelope(_ text: some Collection<UInt8>, rawMember: String,
                                maxDepth: Int = defaultMaxDepth) throws(Failure) -> Envelope? {
        try withBytes(text) { (bytes: UnsafeBufferPointer<UInt8>) throws(Failure) -> Envelope? in
            var reader = JSONReader(bytes, maxDepth: maxDepth)
            reader.skipWhitespace()
            guard reader.peek == UInt8(ascii: "{") else {
                _ = try reader.value(depth: 1)  // a valid non-object is "not an object", an invalid text is invalid
                reader.skipWhitespace()
                guard reader.index == bytes.count else { throw .invalid("unexpected text after the value at byte \(reader.index)") }
                return nil
            }
            var raw: [UInt8]?
            let members = try reader.object(depth: 1) { key, start, end in
                if key == rawMember { raw = Array(bytes[start..<end]) }
            }
            reader.skipWhitespace()
            guard reader.index == bytes.count else { throw .invalid("unexpected text after the object at byte \(reader.index)") }
            return Envelope(members: members, raw: raw, sawNUL: reader.sawNUL)
        }
    }

    private static func withBytes<T>(
        _ text: some Collection<UInt8>, _ body: (UnsafeBufferPointer<UInt8>) throws(Failure) -> T
    ) throws(Failure) -> T {
        let result: Result<T, Failure>? = text.withContiguousStorageIfAvailable { bytes in
            Result { () throws(Failure) -> T in try body(bytes) }
        }
        if let result { return try result.get() }
        let copy = Array(text)
        return try copy.withUnsafeBufferPointer { bytes throws(Failure) -> T in try body(bytes) }
    }

    // MARK: - Grammar

    private var peek: UInt8? { index < bytes.count ? bytes[index] : nil }

    private mutating func skipWhitespace() {
        while index < bytes.count {
            switch bytes[index] {
            case UInt8(ascii: " "), UInt8(ascii: "\t"), UInt8(ascii: "\n"), UInt8(ascii: "\r"): index += 1
            default: return
            }
        }
    }

    private mutating func value(depth: Int) throws(Failure) -> JSONValue {
        guard let byte = peek else { throw .invalid("the text ends where a value was expected") }
        switch byte {
        case UInt8(ascii: "{"): return .object(try object(depth: depth) { _, _, _ in })
        case UInt8(ascii: "["): return .array(try array(depth: depth))
        case UInt8(ascii: "\""): return .string(try string())
        case UInt8(ascii: "t"): try literal("true"); return .bool(true)
        case UInt8(ascii: "f"): try literal("false"); return .bool(false)
        case UInt8(ascii: "n"): try literal("null"); return .null
        case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"): return .number(try number())
        default: throw .invalid("unexpected character at byte \(index)")
        }
    }

    private mutating func literal(_ word: StaticString) throws(Failure) {
        let count = word.utf8CodeUnitCount
        guard index + count <= bytes.count else { throw .invalid("unexpected end of text at byte \(index)") }
        for offset in 0..<count where bytes[index + offset] != word.utf8Start[offset] {
            throw .invalid("unexpected character at byte \(index + offset)")
        }
        index += count
    }

    /// An object; `member` is told each key with the byte range of its value.
    private mutating func object(
        depth: Int, _ member: (String, Int, Int) -> Void
    ) throws(Failure) -> [String: JSONValue] {
        guard depth <= maxDepth else { throw .tooDeep(maxDepth) }
        index += 1  // {
        var members: [String: JSONValue] = [:]
        skipWhitespace()
        if peek == UInt8(ascii: "}") {
            index += 1
            return members
        }
        while true {
            skipWhitespace()
            guard peek == UInt8(ascii: "\"") else { throw .invalid("expected a key in quotes at byte \(index)") }
            let key = try string()
            skipWhitespace()
            guard peek == UInt8(ascii: ":") else { throw .invalid("expected ':' at byte \(index)") }
            index += 1
            skipWhitespace()
            let start = index
            let element = try value(depth: depth + 1)
            member(key, start, index)
            guard members.updateValue(element, forKey: key) == nil else { throw .duplicateKey(key) }
            skipWhitespace()
            switch peek {
            case UInt8(ascii: ","): index += 1
            case UInt8(ascii: "}"): index += 1; return members
            default: throw .invalid("expected ',' or '}' at byte \(index)")
            }
        }
    }

    private mutating func array(depth: Int) throws(Failure) -> [JSONValue] {
        guard depth <= maxDepth else { throw .tooDeep(maxDepth) }
        index += 1  // [
        var items: [JSONValue] = []
        skipWhitespace()
        if peek == UInt8(ascii: "]") {
            index += 1
            return items
        }
        while true {
            skipWhitespace()
            items.append(try value(depth: depth + 1))
            skipWhitespace()
            switch peek {
            case UInt8(ascii: ","): index += 1
            case UInt8(ascii: "]"): index += 1; return items
            default: throw .invalid("expected ',' or ']' at byte \(index)")
            }
        }
    }

    /// `-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?`, as a finite Double.
    private mutating func number() throws(Failure) -> Double {
        let start = index
        var integral = true
        if peek == UInt8(ascii: "-") { index += 1 }
        guard let first = peek, Self.isDigit(first) else { throw .invalid("a number needs a digit at byte \(index)") }
        if first == UInt8(ascii: "0") {
            index += 1
            if let next = peek, Self.isDigit(next) { throw .invalid("a number may not start with 0 at byte \(start)") }
        } else {
            skipDigits()
        }
        if peek == UInt8(ascii: ".") {
            integral = false
            index += 1
            guard let digit = peek, Self.isDigit(digit) else { throw .invalid("a fraction needs a digit at byte \(index)") }
            skipDigits()
        }
        if peek == UInt8(ascii: "e") || peek == UInt8(ascii: "E") {
            integral = false
            index += 1
            if peek == UInt8(ascii: "+") || peek == UInt8(ascii: "-") { index += 1 }
            guard let digit = peek, Self.isDigit(digit) else { throw .invalid("an exponent needs a digit at byte \(index)") }
            skipDigits()
        }
        let span = UnsafeBufferPointer(rebasing: bytes[start..<index])
        // Up to 15 digits is exact in a Double: the common case, without going through text.
        if integral, span.count <= 16 {
            var value: Int64 = 0
            var negative = false
            for byte in span {
                if byte == UInt8(ascii: "-") { negative = true } else { value = value * 10 + Int64(byte - UInt8(ascii: "0")) }
            }
            return Double(negative ? -value : value)
        }
        guard let value = Double(String(decoding: span, as: UTF8.self)), value.isFinite else {
            throw .invalid("the number at byte \(start) is out of range")
        }
        return value
    }

    private mutating func skipDigits() {
        while let byte = peek, Self.isDigit(byte) { index += 1 }
    }

    private static func isDigit(_ byte: UInt8) -> Bool { byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9") }

    /// A string in quotes, escapes decoded, UTF-8 validated.
    private mutating func string() throws(Failure) -> String {
        index += 1  // opening quote
        let start = index
        // Fast path: no escape before the closing quote.
        while index < bytes.count {
            let byte = bytes[index]
            if byte == UInt8(ascii: "\"") {
                let span = UnsafeBufferPointer(rebasing: bytes[start..<index])
                index += 1
                return try Self.text(span)
            }
            if byte == UInt8(ascii: "\\") { break }
            if byte < 0x20 { throw .invalid("a control character inside a string at byte \(index)") }
            index += 1
        }
        var decoded = Array(UnsafeBufferPointer(rebasing: bytes[start..<index]))
        while index < bytes.count {
            let byte = bytes[index]
            switch byte {
            case UInt8(ascii: "\""):
                index += 1
                return try decoded.withUnsafeBufferPointer { span throws(Failure) -> String in try Self.text(span) }
            case UInt8(ascii: "\\"):
                index += 1
                guard let escape = peek else { break }
                index += 1
                switch escape {
                case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"): decoded.append(escape)
                case UInt8(ascii: "b"): decoded.append(0x08)
                case UInt8(ascii: "f"): decoded.append(0x0C)
                case UInt8(ascii: "n"): decoded.append(0x0A)
                case UInt8(ascii: "r"): decoded.append(0x0D)
                case UInt8(ascii: "t"): decoded.append(0x09)
                case UInt8(ascii: "u"): try unicodeEscape(into: &decoded)
                default: throw .invalid("unknown escape \\\(Character(Unicode.Scalar(escape))) at byte \(index - 2)")
                }
            default:
                if byte < 0x20 { throw .invalid("a control character inside a string at byte \(index)") }
                decoded.append(byte)
                index += 1
            }
        }
        throw .invalid("a string is not closed")
    }

    /// `\uXXXX` (the `\u` already read), a surrogate pair as one scalar; a lone surrogate is refused.
    private mutating func unicodeEscape(into decoded: inout [UInt8]) throws(Failure) {
        var scalar = try hex4()
        if (0xD800...0xDBFF).contains(scalar) {
            guard index + 1 < bytes.count, bytes[index] == UInt8(ascii: "\\"), bytes[index + 1] == UInt8(ascii: "u") else {
                throw .invalid("a lone surrogate \\u escape at byte \(index - 6)")
            }
            index += 2
            let low = try hex4()
            guard (0xDC00...0xDFFF).contains(low) else { throw .invalid("a lone surrogate \\u escape at byte \(index - 12)") }
            scalar = 0x10000 + ((scalar - 0xD800) << 10) + (low - 0xDC00)
        } else if (0xDC00...0xDFFF).contains(scalar) {
            throw .invalid("a lone surrogate \\u escape at byte \(index - 6)")
        }
        if scalar == 0 { sawNUL = true }
        guard let unicode = Unicode.Scalar(scalar) else { throw .invalid("an invalid \\u escape at byte \(index - 6)") }
        decoded.append(contentsOf: String(Character(unicode)).utf8)
    }

    private mutating func hex4() throws(Failure) -> UInt32 {
        guard index + 4 <= bytes.count else { throw .invalid("a \\u escape needs four hex digits") }
        var value: UInt32 = 0
        for _ in 0..<4 {
            let byte = bytes[index]
            let digit: UInt32
            switch byte {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): digit = UInt32(byte - UInt8(ascii: "0"))
            case UInt8(ascii: "a")...UInt8(ascii: "f"): digit = UInt32(byte - UInt8(ascii: "a") + 10)
            case UInt8(ascii: "A")...UInt8(ascii: "F"): digit = UInt32(byte - UInt8(ascii: "A") + 10)
            default: throw .invalid("a \\u escape needs four hex digits at byte \(index)")
            }
            value = value << 4 | digit
            index += 1
        }
        return value
    }

    /// The span as a String, refused when it is not valid UTF-8. ASCII (nearly every key and most values) skips the
    /// generic validating initializer, which looked up type metadata for each string: 3 % of docketd's CPU under
    /// `job.create_many`.
    private static func text(_ span: UnsafeBufferPointer<UInt8>) throws(Failure) -> String {
        var high: UInt8 = 0
        for byte in span { high |= byte }
        if high < 0x80 { return String(decoding: span, as: UTF8.self) }
        guard let text = String(validating: span, as: UTF8.self) else { throw .invalid("a string is not valid UTF-8") }
        return text
    }
}
