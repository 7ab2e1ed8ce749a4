import DocketCore

/// A request's `id` exactly as it was sent (its JSON text), so the answer echoes it byte for byte: an integer id past
/// 2^53 or a number written `1.50` comes back unchanged.
public struct RequestID: Sendable, Hashable, CustomStringConvertible {
    /// The JSON text: a string literal, a number, or `null`.
    public let text: [UInt8]

    public static let none = RequestID(text: Array("null".utf8))

    init(text: [UInt8]) { self.text = text }

    public init(_ number: Int) { text = Array(String(number).utf8) }

    public init(string: String) { text = JSONWriter.bytes(.string(string)) }

    /// The id as an integer, when it was one.
    public var integer: Int? { Int(String(decoding: text, as: UTF8.self)) }

    public var description: String { String(decoding: text, as: UTF8.self) }
}

/// One request line of SPEC 3.1: `{"id": …, "op": "…", "args": {…}}`.
public struct WireRequest: Sendable {
    public var id: RequestID
    public var op: String
    public var args: Arguments

    public init(id: RequestID, op: String, args: Arguments) {
        self.id = id
        self.op = op
        self.args = args
    }

    /// A line that could not become a request: the error to answer with, and the `id` if one could be read.
    public struct Refusal: Error, Sendable {
        public var id: RequestID
        public var error: DocketError
    }

    /// The members a request line may have.
    static let envelopeKeys: Set<String> = ["id", "op", "args"]
    /// Longest `id` text echoed back.
    static let maxIDBytes = 256

    /// Parses one line (without its newline).
    ///
    /// Refused with `BAD_REQUEST`: text that is not JSON or not an object, a key given twice, an `id` that is not a
    /// string, number or null, a missing `op`, unknown members. A string anywhere in `args` holding U+0000 (which no
    /// PostgreSQL text can store) is a `VALIDATION_ERROR` naming the argument.
    public static func parse(_ line: some Collection<UInt8>) -> Result<WireRequest, Refusal> {
        let envelope: JSONReader.Envelope
        do {
            guard let parsed = try JSONReader.envelope(line, rawMember: "id") else {
                return .failure(Refusal(id: .none, error: DocketError(.badRequest, "a request must be a JSON object")))
            }
            envelope = parsed
        } catch {
            return .failure(Refusal(id: .none, error: DocketError(.badRequest, error.message)))
        }
        let fields = envelope.members
        var id = RequestID.none
        switch fields["id"] {
        case nil, .null?: break
        case .string?, .number?:
            guard let raw = envelope.raw, raw.count <= maxIDBytes else {
                return .failure(Refusal(id: .none, error: DocketError(.badRequest, "the id is longer than \(maxIDBytes) bytes")))
            }
            id = RequestID(text: raw)
        default:
            return .failure(Refusal(id: .none, error: DocketError(.badRequest, "the id must be a string, a number or null")))
        }
        if let unknown = fields.keys.sorted().first(where: { !envelopeKeys.contains($0) }) {
            return .failure(Refusal(id: id, error: DocketError(.badRequest,
                "unknown request member \"\(unknown.prefix(60))\": a request has id, op and args")))
        }
        guard case .string(let op)? = fields["op"], !op.isEmpty else {
            return .failure(Refusal(id: id, error: DocketError(.badRequest, "the request has no \"op\" string")))
        }
        guard op.utf8.count <= 100, !op.utf8.contains(0) else {
            return .failure(Refusal(id: id, error: DocketError(.badRequest, "the op is not a known operation name")))
        }
        let args: Arguments
        do {
            args = try Arguments(json: fields["args"])
        } catch {
            return .failure(Refusal(id: id, error: DocketError(.badRequest, "\"args\" must be an object")))
        }
        if envelope.sawNUL, let field = args.fieldHoldingNUL() {
            return .failure(Refusal(id: id, error: DocketError(.validationError,
                "\(field.name): contains the character U+0000, which cannot be stored",
                details: ["field": .string(field.name), "path": .string(field.path)])))
        }
        return .success(WireRequest(id: id, op: op, args: args))
    }

    /// The request as a line, newline included (clients).
    public var line: [UInt8] {
        var out = Array("{\"args\":".utf8)
        JSONWriter.write(.object(args.fields), into: &out)
        out.append(contentsOf: ",\"id\":".utf8)
        out.append(contentsOf: id.text)
        out.append(contentsOf: ",\"op\":".utf8)
        JSONWriter.writeString(op, into: &out)
        out.append(contentsOf: "}\n".utf8)
        return out
    }
}

/// Response and event lines of SPEC 3.1. Their objects' members come in no set order (sorting them was 8 % of
/// docketd's CPU for `job.create_many`); the envelope's are fixed.
public enum WireResponse {
    public static func success(id: RequestID, data: JSONValue) -> [UInt8] {
        success(id: id) { JSONWriter.write(data, into: &$0, sortingKeys: false) }
    }

    /// A success whose `data` the caller writes straight into the line (a `WireEncodable`'s `writeWire(into:)`).
    public static func success(id: RequestID, writing data: (inout [UInt8]) -> Void) -> [UInt8] {
        var out = Array("{\"data\":".utf8)
        data(&out)
        out.append(contentsOf: ",\"id\":".utf8)
        out.append(contentsOf: id.text)
        out.append(contentsOf: ",\"ok\":true}\n".utf8)
        return out
    }

    public static func failure(id: RequestID, error: DocketError) -> [UInt8] {
        var out = Array("{\"error\":".utf8)
        JSONWriter.write(body(error), into: &out, sortingKeys: false)
        out.append(contentsOf: ",\"id\":".utf8)
        out.append(contentsOf: id.text)
        out.append(contentsOf: ",\"ok\":false}\n".utf8)
        return out
    }

    public static func event(_ envelope: JSONValue, subscription: String) -> [UInt8] {
        line(.object(["event": envelope, "subscription": .string(subscription)]))
    }

    /// Tells a subscriber its subscription has ended (it fell behind, or the database was unreachable for its replay).
    public static func dropped(subscription: String, error: DocketError, lastSeq: Int64?) -> [UInt8] {
        var error = error
        if let lastSeq { error.details["last_seq"] = .number(Double(lastSeq)) }
        return line(.object(["subscription": .string(subscription), "dropped": .bool(true), "error": body(error)]))
    }

    static func body(_ error: DocketError) -> JSONValue {
        var body: [String: JSONValue] = ["code": .string(error.code.rawValue), "message": .string(error.message)]
        if !error.details.isEmpty { body["details"] = .object(error.details) }
        return .object(body)
    }

    static func line(_ value: JSONValue) -> [UInt8] {
        var out = JSONWriter.bytes(value, sortingKeys: false)
        out.append(UInt8(ascii: "\n"))
        return out
    }

    /// A parsed response line (clients): the id and either the data or the error.
    public struct Parsed: Sendable {
        public var id: RequestID
        public var result: Result<JSONValue, DocketError>
        /// Set for pushed events instead of `result`.
        public var event: JSONValue?
        public var subscription: String?
        /// Set (with `subscription` and a failure `result`) when the server ended a subscription.
        public var dropped = false
    }

    public static func parse(_ line: some Collection<UInt8>) throws -> Parsed {
        guard let envelope = try JSONReader.envelope(line, rawMember: "id", maxDepth: 256) else {
            throw DocketError(.badRequest, "the server sent something that is not a JSON object")
        }
        let fields = envelope.members
        if let event = fields["event"] {
            let subscription: String? = if case .string(let name)? = fields["subscription"] { name } else { nil }
            return Parsed(id: .none, result: .success(.null), event: event, subscription: subscription)
        }
        let id = envelope.raw.map(RequestID.init(text:)) ?? .none
        if fields["dropped"] == .bool(true), case .string(let subscription)? = fields["subscription"] {
            var parsed = Parsed(id: .none, result: .failure(Self.error(fields["error"])), subscription: subscription)
            parsed.dropped = true
            return parsed
        }
        if fields["ok"] == .bool(true) {
            return Parsed(id: id, result: .success(fields["data"] ?? .null))
        }
        guard case .object(let error)? = fields["error"], case .string = error["code"] else {
            throw DocketError(.badRequest, "the server sent a response without ok or error")
        }
        return Parsed(id: id, result: .failure(Self.error(.object(error))))
    }

    static func error(_ value: JSONValue?) -> DocketError {
        guard case .object(let error)? = value, case .string(let codeName)? = error["code"] else {
            return DocketError(.internal, "the server sent an error without a code")
        }
        let code = DocketError.Code(rawValue: codeName) ?? .internal
        let message: String = if case .string(let text)? = error["message"] { text } else { codeName }
        return DocketError(code, message, details: error["details"]?.objectValue ?? [:])
    }
}
