import Foundation

/// A tenant's queue and its flow control (docs/protocol.md, "Queues"). A queue without stored settings has these
/// defaults: no concurrency limit, no rate limit, not paused, weight 1.
public struct Queue: Sendable, Hashable {
    /// At most `count` starts in any window of `perSeconds`.
    public struct RateLimit: Sendable, Hashable {
        public var count: Int
        public var perSeconds: Int

        public init(count: Int, perSeconds: Int) {
            self.count = count
            self.perSeconds = perSeconds
        }
    }

    /// The queue's jobs by state, for `queue.list` and `queue.get`.
    public struct Counts: Sendable, Hashable {
        /// Due now: scheduled jobs whose time has come, and running jobs no worker holds.
        public var available = 0
        /// Scheduled for later.
        public var scheduled = 0
        public var running = 0
        public var failed = 0
        /// When the oldest available job became due.
        public var oldestAvailableSince: Date?

        public init() {}
    }

    public var tenantId: String
    public var name: String
    public var concurrency: Int?
    public var rateLimit: RateLimit?
    public var paused = false
    public var weight = 1
    public var updatedAt: Date?
    public var counts = Counts()

    public init(tenantId: String, name: String) {
        self.tenantId = tenantId
        self.name = name
    }

    /// Why a start in this queue is refused now (`RATE_LIMITED`), given its running jobs and its starts in the rate
    /// window; nil when it may start.
    public func refusal(running: Int, recentStarts: Int) -> DocketError? {
        if paused {
            return DocketError(.rateLimited, "queue \(name) is paused", details: ["queue": .string(name), "limit": .string("paused")])
        }
        if let concurrency, running >= concurrency {
            return DocketError(.rateLimited, "queue \(name) runs \(running) jobs, its concurrency limit is \(concurrency)",
                               details: ["queue": .string(name), "limit": .string("concurrency"), "concurrency": .number(Double(concurrency))])
        }
        if let rateLimit, recentStarts >= rateLimit.count {
            return DocketError(.rateLimited,
                               "queue \(name) started \(recentStarts) jobs in the last \(rateLimit.perSeconds) s, its rate limit is \(rateLimit.count)",
                               details: ["queue": .string(name), "limit": .string("rate_limit"),
                                         "rate_limit": .object(["count": .number(Double(rateLimit.count)),
                                                                "per_seconds": .number(Double(rateLimit.perSeconds))])])
        }
        return nil
    }
}
