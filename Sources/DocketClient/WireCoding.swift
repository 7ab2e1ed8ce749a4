import DocketCore
import DocketProtocol
import Foundation

/// Moves values between the wire's JSON and the client's `Codable` models: snake_case names, SPEC timestamps.
enum WireCoding {
    static func decode<T: Decodable>(_ type: T.Type, from value: JSONValue, op: String) throws -> T {
        do {
            return try decoder.decode(T.self, from: Data(JSONWriter.bytes(value)))
        } catch {
            throw DocketError(.internal, "cannot read the answer to \(op) as \(T.self): \(error)")
        }
    }

    static func encode(_ value: some Encodable) throws -> JSONValue {
        let data = try encoder.encode(value)
        do {
            return try JSONReader.parse(data)
        } catch {
            throw DocketError(.internal, "cannot encode \(type(of: value)): \(error)")
        }
    }

    private static var decoder: JSONDecoder {
        let decoder = JSONDecoder()
        decoder.keyDecodingStrategy = .convertFromSnakeCase
        decoder.dateDecodingStrategy = .custom { decoder in
            let text = try decoder.singleValueContainer().decode(String.self)
            guard let date = Timestamp.parse(text) else {
                throw DecodingError.dataCorrupted(.init(codingPath: decoder.codingPath, debugDescription: "not a timestamp: \(text)"))
            }
            return date
        }
        return decoder
    }

    private static var encoder: JSONEncoder {
        let encoder = JSONEncoder()
        encoder.keyEncodingStrategy = .convertToSnakeCase
        encoder.dateEncodingStrategy = .custom { date, encoder in
            var container = encoder.singleValueContainer()
            try container.encode(Timestamp.format(date))
        }
        return encoder
    }
}

/// Wire forms of the values typed methods send.
extension Optional where Wrapped == String {
    var json: JSONValue { map(JSONValue.string) ?? .null }
}

extension Int {
    var json: JSONValue { .number(Double(self)) }
}

extension UUID {
    var json: JSONValue { .string(uuidString.lowercased()) }
}

extension Date {
    var json: JSONValue { .string(Timestamp.format(self)) }
}

extension Array where Element == String {
    var json: JSONValue { .array(map(JSONValue.string)) }
}

/// The arguments of a call, built field by field: nil values are left out (the server's defaults apply).
struct CallArguments {
    private(set) var fields: [String: JSONValue] = [:]

    init(_ fields: [String: JSONValue] = [:]) { self.fields = fields }

    subscript(key: String) -> JSONValue? {
        get { fields[key] }
        set { if let newValue { fields[key] = newValue } }
    }

    mutating func merge(_ other: [String: JSONValue]) {
        fields.merge(other) { _, theirs in theirs }
    }
}
