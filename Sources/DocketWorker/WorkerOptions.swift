import DocketCore
import Foundation

/// How a worker takes and runs jobs; every default is documented in docs/workers.md.
public struct WorkerOptions: Sendable {
    /// The queues it claims from; nil: every queue.
    public var queues: [String]?
    /// Jobs run at once, at most (claims never ask for more than the free slots).
    public var concurrency: Int
    /// The lease each claim and heartbeat asks for: past it without a heartbeat, the leader's timeout sweep fails the
    /// run with `LEASE_EXPIRED` and its retry policy decides what follows.
    public var leaseSeconds: Int
    /// How often a running job's lease is renewed and its cancel or pause request read. Well inside the lease.
    public var heartbeatInterval: Duration
    /// The slowest claim loop: a worker woken by no event still claims this often (jobs scheduled for later, a lost
    /// subscription).
    public var pollInterval: Duration
    /// The shortest time between two claims: wake-ups (events, finished jobs) that come closer together are served by
    /// one claim, so a busy worker claims in batches instead of once per event. A wake-up after a quiet spell claims
    /// at once.
    public var claimCooldown: Duration
    /// How long graceful shutdown lets running handlers finish before cancelling them (they then fail with
    /// `WORKER_SHUTDOWN`, and their retry policy decides).
    public var shutdownDeadline: Duration
    /// The agent name claims and runs carry (`claimed_by`); default `worker-<host>-<pid>`.
    public var agent: String
    /// The tenant it works for, when its key is a system actor's (which must name one); nil for a tenant's key.
    public var tenantId: String?

    public init(queues: [String]? = nil, concurrency: Int = 10, leaseSeconds: Int = 60, heartbeatInterval: Duration = .seconds(10),
                pollInterval: Duration = .seconds(5), claimCooldown: Duration = .milliseconds(25), shutdownDeadline: Duration = .seconds(30), agent: String? = nil,
                tenantId: String? = nil) {
        self.tenantId = tenantId
        self.queues = queues
        self.concurrency = concurrency
        self.leaseSeconds = leaseSeconds
        self.heartbeatInterval = heartbeatInterval
        self.pollInterval = pollInterval
        self.claimCooldown = claimCooldown
        self.shutdownDeadline = shutdownDeadline
        self.agent = agent ?? "worker-\(ProcessInfo.processInfo.hostName)-\(ProcessInfo.processInfo.processIdentifier)"
    }

    /// Refuses settings that cannot work: no slots, a heartbeat that does not fit in the lease.
    public func validate() throws(DocketError) {
        guard (1...1_000).contains(concurrency) else { throw .validation(field: "concurrency", "must be 1–1000, got \(concurrency)") }
        guard (1...86_400).contains(leaseSeconds) else { throw .validation(field: "lease_seconds", "must be 1–86400, got \(leaseSeconds)") }
        guard heartbeatInterval > .zero, heartbeatInterval * 2 <= .seconds(leaseSeconds) else {
            throw .validation(field: "heartbeat_interval", "must be above 0 and at most half the lease (\(leaseSeconds) s), got \(heartbeatInterval)")
        }
        guard pollInterval > .zero else { throw .validation(field: "poll_interval", "must be above 0") }
        guard claimCooldown >= .zero, claimCooldown < pollInterval else {
            throw .validation(field: "claim_cooldown", "must be at least 0 and below the poll interval, got \(claimCooldown)")
        }
        guard !agent.isEmpty, agent.count <= 500 else { throw .validation(field: "agent", "must be 1–500 characters") }
    }
}
