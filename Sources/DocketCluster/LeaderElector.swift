import DocketCore
import DocketPostgres
import Foundation
import Logging
import PostgresNIO
import ServiceLifecycle
import Synchronization

/// Elects one leader among the instances with a session advisory lock on a dedicated connection (docs/cluster.md).
///
/// Follower: every `electionInterval` try the lock; on winning, bump the epoch in `docket.leadership` on the lock
/// connection and lead. While someone else leads, a heartbeat older than `leaseTTL` marks a frozen leader: terminate
/// its lock backend and try again. Leader: renew the heartbeat every `heartbeatInterval` with a deadline; when no renewal
/// has succeeded for `trustWindow`, or the term is no longer ours, step down at once by closing the lock connection.
/// On graceful shutdown a leader resigns its term and unlocks, so a follower takes over at its next try.
public final class LeaderElector: Service, Sendable {
    public struct Configuration: Sendable {
        public var name = "default"
        public var lockKey = AdvisoryLockKey(namespace: AdvisoryLockKey.docketNamespace, key: 2)
        public var electionInterval: Duration = .milliseconds(500)
        public var heartbeatInterval: Duration = .milliseconds(500)
        public var trustWindow: Duration = .seconds(3)
        public var leaseTTL: Duration = .seconds(10)

        public init() {}

        public func validate() throws(DocketError) {
            guard heartbeatInterval < trustWindow else {
                throw .validation(field: "heartbeat_interval", "must be shorter than the trust window")
            }
            guard trustWindow < leaseTTL else { throw .validation(field: "trust_window", "must be shorter than the lease TTL") }
        }
    }

    /// What this instance believes: leading in `epoch`, or following.
    public enum Role: Sendable, Equatable {
        case follower
        case leader(epoch: Int64)
    }

    let endpoint: DatabaseEndpoint
    let instanceId: String
    let configuration: Configuration
    let logger: Logger
    /// Told after the election's `cluster.leader_elected` event commits (the bus wakes its readers).
    let eventsCommitted: @Sendable () -> Void
    private let role = Mutex(Role.follower)
    /// Set on graceful shutdown: a leader resigns, a follower stops campaigning.
    private let stopping = Mutex(false)
    private var isStopping: Bool { stopping.withLock { $0 } || Task.isCancelled }

    public init(endpoint: DatabaseEndpoint, instanceId: String, configuration: Configuration = .init(), logger: Logger,
                eventsCommitted: @escaping @Sendable () -> Void = {}) {
        self.eventsCommitted = eventsCommitted
        self.endpoint = endpoint
        self.instanceId = instanceId
        self.configuration = configuration
        self.logger = logger
    }

    public var currentRole: Role { role.withLock { $0 } }

    public func run() async throws {
        await withGracefulShutdownHandler {
            while !self.isStopping {
                do {
                    let connection = try await self.endpoint.connect(logger: self.logger)
                    do {
                        try await self.campaign(connection)
                    } catch {
                        try? await connection.close()
                        throw error
                    }
                    try? await connection.close()
                } catch {
                    if !self.isStopping {
                        self.logger.warning("election connection lost", metadata: ["error": "\(DatabaseEndpoint.reason(error))"])
                    }
                }
                self.role.withLock { $0 = .follower }
                if !self.isStopping { try? await Task.sleep(for: self.configuration.electionInterval) }
            }
        } onGracefulShutdown: {
            self.stopping.withLock { $0 = true }
        }
    }

    /// One life of the lock connection: follow until the lock is won, lead until the term is lost or we are stopped.
    private func campaign(_ connection: PostgresConnection) async throws {
        // Server-side keepalives: a leader that vanishes is dropped (its lock freed) after it has stepped down itself.
        let session = SessionQueries(connection, logger: logger)
        try await session.setKeepalives(idle: 4, interval: 1, count: 3)
        let queries = LeadershipQueries(connection, logger: logger)
        let key = configuration.lockKey
        while !isStopping {
            let won = try await withDeadline(connection) {
                try await session.tryLock(key)
            }
            if won == true { break }
            if let found = try await withDeadline(connection, { try await queries.leadership(name: self.configuration.name) }),
               let current = found,
               let age = current.heartbeatAge, age > configuration.leaseTTL.inSeconds, let pid = current.backendPid {
                if try await queries.terminateHolder(pid: pid, key: key) {
                    logger.notice("terminated a frozen leader's lock connection",
                                  metadata: ["leader": "\(current.instanceId ?? "?")", "epoch": "\(current.epoch)", "heartbeat_age": "\(age)"])
                }
            }
            try await Task.sleep(for: configuration.electionInterval)
        }
        guard !isStopping else { return }
        let epoch = try await connection.inTransaction(logger: logger) { connection in
            let epoch = try await LeadershipQueries(connection, logger: self.logger).claimTerm(name: self.configuration.name, instance: self.instanceId)
            try await EventQueries(connection, logger: self.logger).append([EventDraft(
                topic: .clusterLeaderElected, tenantId: nil, entityType: .cluster, entityId: self.instanceId,
                actorId: self.instanceId, data: ["epoch": .number(Double(epoch)), "instance_id": .string(self.instanceId)])])
            return epoch
        }
        role.withLock { $0 = .leader(epoch: epoch) }
        eventsCommitted()
        logger.notice("elected leader", metadata: ["epoch": "\(epoch)"])
        try await lead(connection, queries, epoch: epoch)
    }

    /// Renews the term until it is lost (step down: the caller closes the lock connection) or we are stopped (resign).
    private func lead(_ connection: PostgresConnection, _ queries: LeadershipQueries, epoch: Int64) async throws {
        let clock = ContinuousClock()
        var confirmed = clock.now
        while true {
            if isStopping {
                _ = try? await withDeadline(connection) {
                    try await queries.resignTerm(name: self.configuration.name, instance: self.instanceId, epoch: epoch)
                    try await SessionQueries(connection, logger: self.logger).unlock(self.configuration.lockKey)
                }
                role.withLock { $0 = .follower }
                logger.notice("resigned leadership", metadata: ["epoch": "\(epoch)"])
                return
            }
            // A closed lock connection means the lock is gone with it: nothing to wait for.
            if connection.isClosed {
                role.withLock { $0 = .follower }
                logger.warning("stepped down", metadata: ["epoch": "\(epoch)", "reason": "lock connection closed"])
                return
            }
            let renewed = (try? await withDeadline(connection) {
                try await queries.renewTerm(name: self.configuration.name, instance: self.instanceId, epoch: epoch)
            }) ?? nil
            if renewed == true {
                confirmed = clock.now
            } else if renewed == false || clock.now - confirmed > configuration.trustWindow {
                role.withLock { $0 = .follower }
                logger.warning("stepped down", metadata: ["epoch": "\(epoch)", "reason": "\(renewed == false ? "term taken" : "trust window passed")"])
                return
            }
            try? await Task.sleep(for: configuration.heartbeatInterval)
        }
    }

    /// Runs a query with a deadline of at least a second; past it the connection is closed and the answer is nil.
    private func withDeadline<T: Sendable>(_ connection: PostgresConnection, _ body: @escaping @Sendable () async throws -> T) async throws -> T? {
        try await connection.withDeadline(max(configuration.heartbeatInterval, .seconds(1)), body)
    }
}
