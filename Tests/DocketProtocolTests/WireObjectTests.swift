import DocketCore
import DocketProtocol
import Foundation
import Testing

/// A wire object's two forms — `wire` (a `JSONValue`) and `writeWire(into:)` (the bytes a response carries) — come
/// from one declaration of its members, so they must always say the same thing.
struct WireObjectTests {
    func written(_ value: some WireEncodable) throws -> JSONValue {
        var out: [UInt8] = []
        value.writeWire(into: &out)
        return try JSONReader.parse(out)
    }

    @Test func aJobWritesWhatItsWireSays() throws {
        let now = Date(timeIntervalSince1970: 1_764_000_000.123456)
        let bare = Job(id: UUID(), tenantId: "t", name: "bare", createdBy: "me", now: now)
        var full = Job(id: UUID(), tenantId: "tenant \"quoted\"", name: "line\nbreak é ✓", createdBy: "agent\\x", now: now)
        full.description = "tab\there"
        full.status = .running
        full.priority = 99
        full.schedule = .object(["kind": .string("cron"), "expression": .string("*/5 * * * *")])
        full.nextRunAt = now.addingTimeInterval(60)
        full.assignedAgent = "agent-7"
        full.delegationChain = [.string("a"), .object(["b": .number(1.5)])]
        full.executionContext = ["depth": .number(3), "nested": .array([.null, .bool(true)])]
        full.checkpointData = .object(["step": .number(-4)])
        full.lastCompletedStep = 0
        full.estimatedCost = Money(micros: 1_234_567)
        full.actualCost = Money(micros: 0)
        full.timeoutSeconds = 3_600
        full.planId = "plan-1"
        full.planStepIndex = 12
        full.metadata = ["team": .string("ops"), "n": .number(1e21)]
        full.callbackUrl = "https://example.com/hook"
        full.callback = .object(["url": .string("https://example.com/hook")])
        full.retryPolicy = .object(["max_attempts": .number(5)])
        full.attempt = 2
        full.resultSummary = "half"
        full.output = .array([.number(1), .number(2)])
        full.errorCode = "BOOM"
        full.errorMessage = "\u{01} control"
        full.cancelRequested = .object(["reason": .string("stop")])
        full.pauseRequested = true
        full.claimedBy = "worker-1"
        full.leaseExpiresAt = now.addingTimeInterval(30)
        full.ttftNs = 1_500_000
        full.totalDurationNs = -0
        full.startedAt = now
        full.finishedAt = now.addingTimeInterval(1)
        full.version = 9_007_199_254
        full.idempotencyKey = "key-1"
        full.queue = "emails"
        full.kind = "send.email"
        full.args = ["to": .string("a@b.c")]
        for job in [bare, full] {
            #expect(try written(job) == job.wire)
            guard case .object(let members) = job.wire else { Issue.record("a job is an object"); continue }
            #expect(members.count == 43, "every member of SPEC 2.2, null ones too")
        }
        #expect(try written([bare, full]) == [bare, full].wire)
        #expect(try written(WireList("jobs", [full])) == .object(["jobs": .array([full.wire])]))
    }

    @Test func aRunAndAPageWriteWhatTheirWireSays() throws {
        let now = Date(timeIntervalSince1970: 1_764_000_000)
        var run = JobRun(jobId: UUID(), tenantId: "t", runNumber: 3, attempt: 2, scheduledFor: now, startedAt: now)
        #expect(try written(run) == run.wire)
        run.finishedAt = now
        run.status = .timedOut
        run.errorCode = "TIMEOUT"
        run.actualCost = Money(micros: 10)
        run.instanceId = "i-1"
        #expect(try written(run) == run.wire)
        let page = Page(items: [run], nextCursor: nil, previousCursor: nil)
        #expect(try written(page) == page.wire)
    }
}
