import DocketBus
import DocketCore
import DocketPostgres
import Foundation
import Logging
import PostgresNIO
import ServiceLifecycle
import Synchronization

/// Elects one leader among the instances with a session advisory lock on a dedicated connection (docs/cluster.md).
///
/// What to do when is `ElectionStateMachine`'s to decide; this carries its actions out on the lock connection, each
/// query under a deadline (closing the connection when one passes: the only way to abort a PostgresNIO query), and
/// publishes every role change on `roles`.
public final class LeaderElector: Service, Sendable {
    public struct Configuration: Sendable {
        public var name = "default"
        public var lockKey = AdvisoryLockKey(namespace: AdvisoryLockKey.docketNamespace, key: 2)
        public var timing = ElectionStateMachine<ContinuousClock.Instant>.Configuration()

        public init() {}

        public func validate() throws(DocketError) { try timing.validate() }
    }

    public typealias Role = RoleWatch.Role

    let endpoint: DatabaseEndpoint
    public let instanceId: String
    public let configuration: Configuration
    let logger: Logger
    /// Told after the election's `cluster.leader_elected` event commits (the bus wakes its readers).
    let eventsCommitted: @Sendable () -> Void
    /// This instance's role, and its changes.
    public let roles = RoleWatch()
    private let stopSignal = WakeSignal()
    private let stopping = Atomic(false)

    public init(endpoint: DatabaseEndpoint, instanceId: String, configuration: Configuration = .init(), logger: Logger,
                eventsCommitted: @escaping @Sendable () -> Void = {}) {
        self.eventsCommitted = eventsCommitted
        self.endpoint = endpoint
        self.instanceId = instanceId
        self.configuration = configuration
        self.logger = logger
    }

    public var currentRole: Role { roles.current }

    public func run() async throws {
        await withGracefulShutdownHandler {
            await self.elect()
        } onGracefulShutdown: {
            self.stopping.store(true, ordering: .relaxed)
            self.stopSignal.fire()
        }
        roles.close()
    }

    private var isStopping: Bool { stopping.load(ordering: .relaxed) || Task.isCancelled }

    /// Runs the machine's actions until it is done.
    private func elect() async {
        var machine = ElectionStateMachine<ContinuousClock.Instant>(configuration: configuration.timing)
        var connection: PostgresConnection?
        var action = machine.start()
        let key = configuration.lockKey, name = configuration.name, instance = instanceId, logger = self.logger
        while true {
            if isStopping, !Self.isStopAction(action) { action = machine.stop() }
            switch action {
            case .connect:
                do {
                    let opened = try await endpoint.connect(logger: logger)
                    connection = opened
                    // Server-side keepalives: a leader that vanishes is dropped (its lock freed) after it has stepped down.
                    try await deadline(opened) { try await SessionQueries(opened, logger: logger).setKeepalives(idle: 4, interval: 1, count: 3) }
                    action = machine.connected()
                } catch {
                    if !isStopping { logger.warning("election connection lost", metadata: ["error": "\(DatabaseEndpoint.reason(error))"]) }
                    action = await lost(&connection, &machine)
                }
            case .tryLock:
                guard let open = connection, let won = try? await deadline(open, { try await SessionQueries(open, logger: logger).tryLock(key) }) else {
                    action = await lost(&connection, &machine)
                    break
                }
                action = machine.lockResult(won: won)
            case .readLeadership:
                let found: ClusterStatus.Leadership?
                do {
                    guard let open = connection else { throw DocketError(.unavailable, "no lock connection") }
                    found = try await deadline(open) { try await LeadershipQueries(open, logger: logger).leadership(name: name) }
                } catch {
                    action = await lost(&connection, &machine)
                    break
                }
                action = machine.leadershipRead(heartbeatAge: found?.heartbeatAge.map { .milliseconds(Int($0 * 1000)) },
                                                 holderPid: found?.backendPid)
            case .terminateHolder(let pid):
                if let open = connection, (try? await deadline(open, { try await LeadershipQueries(open, logger: logger).terminateHolder(pid: pid, key: key) })) == true {
                    logger.notice("terminated a frozen leader's lock connection", metadata: ["backend": "\(pid)"])
                }
                action = machine.holderTerminated()
            case .claimTerm:
                guard let open = connection, let epoch = try? await deadline(open, { try await self.claimTerm(on: open) }) else {
                    action = await lost(&connection, &machine)
                    break
                }
                action = machine.termClaimed(epoch: epoch, at: .now)
                roles.set(.leader(epoch: epoch))
                eventsCommitted()
                logger.notice("elected leader", metadata: ["epoch": "\(epoch)"])
            case .renew(let epoch):
                guard let open = connection, !open.isClosed else {
                    logger.warning("stepped down", metadata: ["epoch": "\(epoch)", "reason": "lock connection closed"])
                    action = await lost(&connection, &machine)
                    break
                }
                let renewed = try? await deadline(open) {
                    try await LeadershipQueries(open, logger: logger).renewTerm(name: name, instance: instance, epoch: epoch)
                }
                action = machine.renewal(renewed == true ? .renewed : renewed == false ? .termTaken : .failed, at: .now)
            case .stepDown(let reason):
                logger.warning("stepped down", metadata: ["epoch": "\(roles.current.epoch ?? 0)", "reason": "\(reason)"])
                roles.set(.follower)
                if let open = connection { try? await open.close() }
                connection = nil
                action = machine.steppedDown()
            case .resign(let epoch):
                if let open = connection {
                    _ = try? await deadline(open) {
                        try await LeadershipQueries(open, logger: logger).resignTerm(name: name, instance: instance, epoch: epoch)
                        try await SessionQueries(open, logger: logger).unlock(key)
                    }
                }
                roles.set(.follower)
                logger.notice("resigned leadership", metadata: ["epoch": "\(epoch)"])
                action = machine.resigned()
            case .wait(let rest):
                await stopSignal.wait(upTo: rest)
                action = machine.waited()
            case .done:
                roles.set(.follower)
                if let open = connection { try? await open.close() }
                return
            }
        }
    }

    private static func isStopAction(_ action: ElectionStateMachine<ContinuousClock.Instant>.Action) -> Bool {
        switch action {
        case .resign, .done: true
        default: false
        }
    }

    /// The lock connection is gone (or unusable): close it, and follow.
    private func lost(_ connection: inout PostgresConnection?,
                      _ machine: inout ElectionStateMachine<ContinuousClock.Instant>) async -> ElectionStateMachine<ContinuousClock.Instant>.Action {
        if let open = connection { try? await open.close() }
        connection = nil
        roles.set(.follower)
        return machine.connectionLost()
    }

    /// Bumps the epoch and records `cluster.leader_elected`, in one transaction on the lock connection.
    ///
    /// A previous leader frozen in the middle of a sweep still holds the leadership row `FOR SHARE` (its fence), and
    /// would hold it until it wakes: the claim waits a moment for that pass to commit, then terminates the holders
    /// (their writes roll back) and claims again — well inside the query deadline.
    private func claimTerm(on connection: PostgresConnection) async throws -> Int64 {
        do {
            return try await claimTermOnce(on: connection)
        } catch let error as PSQLError where error.serverInfo?[.sqlState] == "55P03" {
            let ended = try await LeadershipQueries(connection, logger: logger).terminateFenceHolders()
            if ended > 0 { logger.notice("terminated a previous leader's open sweep transactions", metadata: ["backends": "\(ended)"]) }
            return try await claimTermOnce(on: connection)
        }
    }

    private func claimTermOnce(on connection: PostgresConnection) async throws -> Int64 {
        try await connection.inTransaction(logger: logger) { connection in
            try await LeadershipQueries(connection, logger: self.logger).boundLockWaits(milliseconds: 300)
            let epoch = try await LeadershipQueries(connection, logger: self.logger).claimTerm(name: self.configuration.name, instance: self.instanceId)
            try await EventQueries(connection, logger: self.logger).append([EventDraft(
                topic: .clusterLeaderElected, tenantId: nil, entityType: .cluster, entityId: self.instanceId,
                actorId: self.instanceId, data: ["epoch": .number(Double(epoch)), "instance_id": .string(self.instanceId)])])
            return epoch
        }
    }

    /// Runs `body` under a deadline of at least a second; past it the connection is closed and this throws.
    private func deadline<T: Sendable>(_ connection: PostgresConnection, _ body: @escaping @Sendable () async throws -> T) async throws -> T {
        guard let value = try await connection.withDeadline(max(configuration.timing.heartbeatInterval, .seconds(1)), body) else {
            throw DocketError(.unavailable, "the lock connection did not answer in time")
        }
        return value
    }
}
