import Testing
import Foundation
@testable import DocketCore

struct PriorityTests {
    @Test func rangeAndAliases() throws {
        #expect(try Priority(1).value == 1)
        #expect(try Priority(100).value == 100)
        #expect(Priority.default.value == 50)
        for bad in [0, 101, -5] {
            let error = try #require(throws: DocketError.self) { try Priority(bad) }
            #expect(error.code == .validationError)
            #expect(error.details["field"] == .string("priority"))
        }
        let expected = ["CRITICAL": 100, "HIGH": 75, "MEDIUM": 50, "LOW": 25, "BACKGROUND": 10, "high": 75]
        for (name, value) in expected {
            #expect(try Priority(json: .string(name)).value == value)
        }
        #expect(try Priority(json: .number(42)).value == 42)
        #expect(throws: DocketError.self) { try Priority(json: .number(42.5)) }
        #expect(throws: DocketError.self) { try Priority(json: .string("URGENT")) }
        #expect(throws: DocketError.self) { try Priority(json: .bool(true)) }
    }
}

struct MoneyTests {
    @Test func exactArithmetic() throws {
        let sum = try Money("0.10", field: "actual_cost") + Money("0.20", field: "actual_cost")
        #expect(sum == (try Money("0.30", field: "x")))
        #expect(sum.description == "0.30")
        #expect(try Money("15", field: "x").description == "15.00")
        #expect(try Money("3.141593", field: "x").description == "3.141593")
        #expect(try Money("2.5", field: "x").description == "2.50")
        #expect(try Money("0.000001", field: "x").micros == 1)
        #expect(try Money("999999999999.999999", field: "x").description == "999999999999.999999")
    }

    @Test(arguments: ["-1", "1.", ".5", "abc", "1.2.3", "1e5", "", "1.0000001", "1000000000000", " 1"])
    func rejects(_ text: String) throws {
        let error = try #require(throws: DocketError.self) { try Money(text, field: "estimated_cost") }
        #expect(error.code == .validationError)
        #expect(error.details["field"] == .string("estimated_cost"))
    }

    @Test func ordering() throws {
        #expect(try Money("0.99", field: "x") < Money("1.00", field: "x"))
    }
}

struct RetryPolicyTests {
    /// A deterministic generator so jitter can be asserted.
    struct SplitMix: RandomNumberGenerator {
        var state: UInt64
        mutating func next() -> UInt64 {
            state &+= 0x9E37_79B9_7F4A_7C15
            var z = state
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return z ^ (z >> 31)
        }
    }

    @Test func exponentialAndCappedWithoutJitter() {
        let policy = RetryPolicy(maxAttempts: 10, initialBackoffSeconds: 1, maxBackoffSeconds: 30, jitter: 0)
        var random = SplitMix(state: 1)
        let delays = (1...7).map { policy.backoff(afterAttempt: $0, using: &random) }
        #expect(delays == [1, 2, 4, 8, 16, 30, 30])
        #expect(policy.backoff(afterAttempt: 5000, using: &random) == 30)
    }

    @Test func jitterStaysWithinBoundsAndVaries() {
        let policy = RetryPolicy(maxAttempts: 10, initialBackoffSeconds: 4, maxBackoffSeconds: 30, jitter: 0.25)
        var random = SplitMix(state: 42)
        let delays = (0..<200).map { _ in policy.backoff(afterAttempt: 1, using: &random) }
        #expect(delays.allSatisfy { (3.0...5.0).contains($0) })
        #expect(Set(delays).count > 100)
        var again = SplitMix(state: 42)
        #expect(policy.backoff(afterAttempt: 1, using: &again) == delays[0], "same seed, same delay")
    }

    @Test func attemptsAndDefaults() throws {
        let policy = try RetryPolicy(json: .object(["max_attempts": .number(3)]))
        #expect(policy.maxAttempts == 3)
        #expect(policy.initialBackoffSeconds == 1)
        #expect(policy.maxBackoffSeconds == 30)
        #expect(policy.jitter == 0.25)
        #expect(policy.allowsRetry(afterAttempt: 2))
        #expect(!policy.allowsRetry(afterAttempt: 3))
    }

    @Test(arguments: [
        ("max_attempts", JSONValue.number(0)), ("max_attempts", .number(2.5)), ("jitter", .number(1.5)),
        ("initial_backoff_seconds", .number(0)), ("max_backoff_seconds", .number(0.5)), ("bogus", .number(1)),
        ("jitter", .string("x")),
    ])
    func rejectsBadPolicies(_ field: String, _ value: JSONValue) throws {
        let error = try #require(throws: DocketError.self) { try RetryPolicy(json: .object([field: value])) }
        #expect(error.code == .validationError)
        #expect(error.details["field"] == .string("retry_policy.\(field)"))
    }
}

struct JSONValueTests {
    @Test func deepMerge() {
        let base = JSONValue.object(["a": .number(1), "nested": .object(["x": .number(1), "y": .number(2)])])
        let patch = JSONValue.object(["b": .number(2), "nested": .object(["y": .number(3), "z": .number(4)])])
        #expect(base.deepMerged(with: patch) == .object([
            "a": .number(1), "b": .number(2),
            "nested": .object(["x": .number(1), "y": .number(3), "z": .number(4)]),
        ]))
        #expect(base.deepMerged(with: .number(5)) == .number(5))
    }
}

struct RandomUUIDTests {
    @Test func randomUUIDsAreVersion4AndDistinctAcrossPoolRefills() {
        // 1,000 UUIDs draw 16,000 bytes: the 4 kB pool is refilled three times.
        let ids = (0..<1_000).map { _ in UUID.random() }
        #expect(Set(ids).count == ids.count)
        for id in ids {
            #expect(id.uuid.6 >> 4 == 4)
            #expect(id.uuid.8 >> 6 == 0b10)
        }
        // Not a constant pattern: the bytes outside the version and variant bits differ between UUIDs.
        #expect(Set(ids.map { $0.uuid.0 }).count > 100)
    }
}
