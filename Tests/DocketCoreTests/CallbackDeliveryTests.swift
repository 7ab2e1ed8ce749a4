import Foundation
import Testing
@testable import DocketCore

struct CallbackDeliveryTests {
    struct FixedRandom: RandomNumberGenerator {
        mutating func next() -> UInt64 { UInt64.max / 2 }
    }

    func job(_ status: JobStatus) -> Job {
        var job = Job(id: UUID(), tenantId: "t", name: "j", createdBy: "x", now: Date(timeIntervalSince1970: 0))
        job.status = status
        job.callbackUrl = "https://example.com/hook"
        job.metadata = ["team": .string("blue")]
        return job
    }

    @Test func armedOnlyForARealEnd() {
        var succeeded = job(.succeeded)
        succeeded.armCallback(now: Date(timeIntervalSince1970: 10))
        #expect(succeeded.callbackDueAt == Date(timeIntervalSince1970: 10))
        let delivery = CallbackDelivery(json: succeeded.callback)
        #expect(delivery?.state == .pending)
        #expect(delivery?.payload["status"] == .string("succeeded"))
        #expect(delivery?.payload["metadata"]?["team"] == .string("blue"))

        var retrying = job(.failed)
        retrying.retryAt = Date(timeIntervalSince1970: 20)
        retrying.armCallback(now: Date(timeIntervalSince1970: 10))
        #expect(retrying.callback == nil && retrying.callbackDueAt == nil, "a failure that will be retried is not the end")

        var running = job(.running)
        running.armCallback(now: Date())
        #expect(running.callback == nil)
    }

    @Test func attemptsBackOffThenGiveUp() {
        let policy = RetryPolicy(maxAttempts: 3, initialBackoffSeconds: 1, maxBackoffSeconds: 30, jitter: 0)
        var random = FixedRandom()
        var delivery = CallbackDelivery.pending(for: job(.succeeded), now: Date(timeIntervalSince1970: 0))
        let start = Date(timeIntervalSince1970: 100)
        delivery.begin()
        #expect(delivery.state == .delivering && delivery.attempts == 1)
        #expect(delivery.fail(statusCode: 500, error: "HTTP 500", at: start, policy: policy, using: &random) == start.addingTimeInterval(1))
        delivery.begin()
        #expect(delivery.fail(statusCode: nil, error: "timed out", at: start, policy: policy, using: &random) == start.addingTimeInterval(2))
        delivery.begin()
        #expect(delivery.fail(statusCode: 503, error: "HTTP 503", at: start, policy: policy, using: &random) == nil)
        #expect(delivery.state == .failed && delivery.attempts == 3 && delivery.statusCode == 503)
        // Round trip through the stored form.
        #expect(CallbackDelivery(json: delivery.json) == delivery)

        var refused = CallbackDelivery.pending(for: job(.cancelled), now: start)
        refused.begin()
        #expect(refused.fail(statusCode: nil, error: "refused", at: start, policy: policy, final: true, using: &random) == nil)
        #expect(refused.state == .failed)

        var ok = CallbackDelivery.pending(for: job(.succeeded), now: start)
        ok.begin()
        ok.succeed(statusCode: 204, at: start)
        #expect(ok.state == .delivered && ok.statusCode == 204 && ok.error == nil)
    }

    @Test func privateAddresses() {
        for address: [UInt8] in [[127, 0, 0, 1], [10, 1, 2, 3], [172, 16, 0, 1], [172, 31, 255, 255], [192, 168, 1, 1],
                                 [169, 254, 169, 254], [0, 0, 0, 0], [100, 64, 0, 1]] {
            #expect(AddressPolicy.isPrivate(ipv4: address), "\(address)")
        }
        for address: [UInt8] in [[8, 8, 8, 8], [172, 32, 0, 1], [1, 1, 1, 1], [100, 128, 0, 1]] {
            #expect(!AddressPolicy.isPrivate(ipv4: address), "\(address)")
        }
        var loopback6 = [UInt8](repeating: 0, count: 16)
        loopback6[15] = 1
        #expect(AddressPolicy.isPrivate(ipv6: loopback6))
        var mapped = [UInt8](repeating: 0, count: 16)
        mapped[10] = 0xFF; mapped[11] = 0xFF; mapped[12] = 10; mapped[15] = 1
        #expect(AddressPolicy.isPrivate(ipv6: mapped))
        var global = [UInt8](repeating: 0, count: 16)
        global[0] = 0x20; global[1] = 0x01; global[2] = 0x48; global[3] = 0x60
        #expect(!AddressPolicy.isPrivate(ipv6: global))
    }
}
