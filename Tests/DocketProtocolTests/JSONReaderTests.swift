import DocketCore
import Testing
@testable import DocketProtocol

struct JSONReaderTests {
    func parse(_ text: String) throws(JSONReader.Failure) -> JSONValue { try JSONReader.parse(Array(text.utf8)) }

    @Test func readsWhatJSONAllows() throws {
        #expect(try parse(#"{"a":[1,-2.5,1e3,true,false,null,"x"],"b":{}}"#)
                == .object(["a": .array([.number(1), .number(-2.5), .number(1000), .bool(true), .bool(false), .null, .string("x")]),
                            "b": .object([:])]))
        #expect(try parse(#" "\u00e9\ud83d\ude00\n\"\\\/" "#) == .string("é😀\n\"\\/"))
        #expect(try parse("0") == .number(0))
        #expect(try parse("9007199254740993") == .number(9_007_199_254_740_992), "a Double, rounded; ids keep their raw text")
    }

    @Test func refusesWhatJSONDoesNot() throws {
        for text in ["", "{", "[1,]", "{\"a\":1,}", "01", "1.", ".5", "-", "1e", "+1", "\"\\x\"", "\"a", "nul", "tru", "{\"a\" 1}",
                     "[1] 2", "\"\u{01}\"", "1e400", "\"\\ud800\"", "\"\\udc00x\"", "{a:1}", "'a'"] {
            #expect(throws: JSONReader.Failure.self, "\(text)") { try parse(text) }
        }
        #expect(throws: JSONReader.Failure.self) { try JSONReader.parse([0x22, 0xFF, 0x22]) }  // invalid UTF-8
        #expect(throws: JSONReader.Failure.self) { try JSONReader.parse([0x22, 0x61, 0xC3, 0x22]) }  // a cut sequence
        // ASCII and non-ASCII strings take different paths to a String: both come out as written.
        #expect(try parse(#"{"ascii": "plain", "clé": "déjà vu ✓"}"#) == .object(["ascii": .string("plain"), "clé": .string("déjà vu ✓")]))
    }

    @Test func aRepeatedKeyIsRefused() {
        #expect(throws: JSONReader.Failure.duplicateKey("op")) { try parse(#"{"op":"job.delete","op":"ping"}"#) }
        #expect(throws: JSONReader.Failure.duplicateKey("a")) { try parse(#"{"x":{"a":1,"a":2}}"#) }
        #expect(throws: JSONReader.Failure.duplicateKey("é")) { try parse(#"{"é":1,"\u00e9":2}"#) }
    }

    @Test func nestingIsBounded() throws {
        let deep = String(repeating: "[", count: 100_000) + String(repeating: "]", count: 100_000)
        #expect(throws: JSONReader.Failure.tooDeep(JSONReader.defaultMaxDepth)) { try parse(deep) }
        let fine = String(repeating: "[", count: 64) + String(repeating: "]", count: 64)
        _ = try parse(fine)
    }

    @Test func theEnvelopeKeepsTheRawID() throws {
        let envelope = try #require(try JSONReader.envelope(Array(#"{"id": 1.50 ,"op":"ping","args":{"k":"\u0000"}}"#.utf8), rawMember: "id"))
        #expect(envelope.raw.map { String(decoding: $0, as: UTF8.self) } == "1.50")
        #expect(envelope.sawNUL)
        #expect(try JSONReader.envelope(Array("[1]".utf8), rawMember: "id") == nil)
    }

    @Test func requestsAreParsedStrictly() {
        func refusal(_ text: String) -> DocketError? {
            if case .failure(let refusal) = WireRequest.parse(Array(text.utf8)) { return refusal.error }
            return nil
        }
        #expect(refusal(#"{"id":[1],"op":"ping"}"#)?.code == .badRequest)
        #expect(refusal(#"{"id":1,"op":"ping","arg":{}}"#)?.code == .badRequest, "an unknown member is refused, not ignored")
        #expect(refusal(#"{"id":1,"op":"job.create","args":{"name":"a\u0000"}}"#)?.details["field"] == .string("name"))
        #expect(refusal(#"{"id":1,"op":"job.create","args":{"metadata":{"k":["x","a\u0000"]}}}"#)?.details["path"] == .string("metadata.k[1]"))
        guard case .success(let request) = WireRequest.parse(Array(#"{"id":9007199254740993,"op":"ping"}"#.utf8)) else {
            Issue.record("a valid request")
            return
        }
        #expect(String(decoding: WireResponse.success(id: request.id, data: .null), as: UTF8.self)
                == "{\"data\":null,\"id\":9007199254740993,\"ok\":true}\n")
    }
}
