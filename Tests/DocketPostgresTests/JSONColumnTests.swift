import DocketCore
import DocketTestSupport
import Foundation
import Logging
import PostgresNIO
import Testing
@testable import DocketPostgres

/// JSON values bound as jsonb and read back from jsonb and json columns, through docketd's own writer and reader.
struct JSONColumnTests {
    let logger = Logger(label: "test.json-columns")

    /// Nested `depth` levels: arrays and objects alternating around a string.
    func nested(_ depth: Int) -> JSONValue {
        var value: JSONValue = .string("deep")
        for level in 0..<depth { value = level.isMultiple(of: 2) ? .array([value]) : .object(["k": value]) }
        return value
    }

    @Test func valuesRoundTripThroughJSONB() async throws {
        let values: [JSONValue] = [
            .null, .bool(true), .number(-2.5), .number(9_007_199_254_740_991), .number(1e300), .string(""),
            .string("é😀 \"quoted\" \\ back\nline\ttab \u{1}"),
            .object(["b": .array([.number(1), .null, .object([:])]), "a": .string("x"), "": .bool(false)]),
            nested(JSONReader.defaultMaxDepth + 40),
        ]
        try await withTestDatabase { endpoint in
            try await endpoint.withConnection(logger: logger) { c in
                for value in values {
                    let rows = try await c.query("SELECT \(value)::jsonb, \(value)::jsonb::text::json",
                                                 logger: logger).collect()
                    let (jsonb, json) = try rows[0].decode((JSONValue, JSONValue).self)
                    #expect(jsonb == value)
                    #expect(json == value)
                }
                // What PostgreSQL itself wrote (its own spacing and key order) reads as the same value.
                let row = try await c.query(#"SELECT '{"z": [1, 2.50, "a"], "a": {"x": null}}'::jsonb"#, logger: logger).collect()
                #expect(try row[0].decode(JSONValue.self) == .object(["z": .array([.number(1), .number(2.5), .string("a")]),
                                                                    "a": .object(["x": .null])]))
            }
        }
    }

    @Test func aValueDeeperThanAnyStoredOneIsRefusedNotCrashed() async throws {
        try await withTestDatabase { endpoint in
            try await endpoint.withConnection(logger: logger) { c in
                let text = String(repeating: "[", count: JSONValue.storedMaxDepth + 1) + String(repeating: "]", count: JSONValue.storedMaxDepth + 1)
                let rows = try await c.query("SELECT \(text)::jsonb", logger: logger).collect()
                #expect(throws: (any Error).self) { try rows[0].decode(JSONValue.self) }
            }
        }
    }
}
