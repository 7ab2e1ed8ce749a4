import DocketCore
import Foundation

/// One request line of SPEC 3.1: `{"id": …, "op": "…", "args": {…}}`.
public struct WireRequest: Sendable {
    public var id: JSONValue
    public var op: String
    public var args: Arguments

    public init(id: JSONValue, op: String, args: Arguments) {
        self.id = id
        self.op = op
        self.args = args
    }

    /// A line that could not become a request: the error to answer with, and the `id` if one could be read.
    public struct Refusal: Error, Sendable {
        public var id: JSONValue
        public var error: DocketError
    }

    /// Parses one line (without its newline).
    public static func parse(_ line: some Collection<UInt8>) -> Result<WireRequest, Refusal> {
        let value: JSONValue
        do {
            value = try JSONDecoder().decode(JSONValue.self, from: Data(line))
        } catch {
            return .failure(Refusal(id: .null, error: DocketError(.badRequest, "the line is not valid JSON")))
        }
        guard case .object(let fields) = value else {
            return .failure(Refusal(id: .null, error: DocketError(.badRequest, "a request must be a JSON object")))
        }
        var id = fields["id"] ?? .null
        switch id {
        case .string, .number: break
        default: id = .null
        }
        guard case .string(let op)? = fields["op"], !op.isEmpty else {
            return .failure(Refusal(id: id, error: DocketError(.badRequest, "the request has no \"op\"")))
        }
        do {
            return .success(WireRequest(id: id, op: op, args: try Arguments(json: fields["args"])))
        } catch {
            return .failure(Refusal(id: id, error: DocketError(.badRequest, "\"args\" must be an object")))
        }
    }

    /// The request as a line, newline included (clients).
    public var line: [UInt8] {
        var out = JSONWriter.bytes(.object(["id": id, "op": .string(op), "args": .object(args.fields)]))
        out.append(UInt8(ascii: "\n"))
        return out
    }
}

/// Response and event lines of SPEC 3.1.
public enum WireResponse {
    public static func success(id: JSONValue, data: JSONValue) -> [UInt8] {
        line(.object(["id": id, "ok": .bool(true), "data": data]))
    }

    public static func failure(id: JSONValue, error: DocketError) -> [UInt8] {
        var body: [String: JSONValue] = ["code": .string(error.code.rawValue), "message": .string(error.message)]
        if !error.details.isEmpty { body["details"] = .object(error.details) }
        return line(.object(["id": id, "ok": .bool(false), "error": .object(body)]))
    }

    public static func event(_ envelope: JSONValue, subscription: String) -> [UInt8] {
        line(.object(["event": envelope, "subscription": .string(subscription)]))
    }

    /// Tells a subscriber its subscription has ended (it fell behind, or the database was unreachable for its replay).
    public static func dropped(subscription: String, error: DocketError, lastSeq: Int64?) -> [UInt8] {
        var details = error.details
        if let lastSeq { details["last_seq"] = .number(Double(lastSeq)) }
        var body: [String: JSONValue] = ["code": .string(error.code.rawValue), "message": .string(error.message)]
        if !details.isEmpty { body["details"] = .object(details) }
        return line(.object(["subscription": .string(subscription), "dropped": .bool(true), "error": .object(body)]))
    }

    static func line(_ value: JSONValue) -> [UInt8] {
        var out = JSONWriter.bytes(value)
        out.append(UInt8(ascii: "\n"))
        return out
    }

    /// A parsed response line (clients): the id and either the data or the error.
    public struct Parsed: Sendable {
        public var id: JSONValue
        public var result: Result<JSONValue, DocketError>
        /// Set for pushed events instead of `result`.
        public var event: JSONValue?
        public var subscription: String?
        /// Set (with `subscription` and a failure `result`) when the server ended a subscription.
        public var dropped = false
    }

    public static func parse(_ line: some Collection<UInt8>) throws -> Parsed {
        guard case .object(let fields) = try JSONDecoder().decode(JSONValue.self, from: Data(line)) else {
            throw DocketError(.badRequest, "the server sent something that is not a JSON object")
        }
        if let event = fields["event"] {
            let subscription: String? = if case .string(let name)? = fields["subscription"] { name } else { nil }
            return Parsed(id: .null, result: .success(.null), event: event, subscription: subscription)
        }
        let id = fields["id"] ?? .null
        if fields["dropped"] == .bool(true), case .string(let subscription)? = fields["subscription"] {
            var parsed = Parsed(id: .null, result: .failure(Self.error(fields["error"])), subscription: subscription)
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
