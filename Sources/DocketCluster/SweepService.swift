import DocketBus
import DocketCore
import DocketPostgres
import Foundation
import Logging
import ServiceLifecycle
import Synchronization

/// One maintenance sweep (SPEC 4.3): what it does in one pass, and how long to rest after it.
public protocol Sweep: Sendable {
    /// The name in logs, metrics and `docket.sweep_runs`.
    var kind: String { get }
    /// Does one pass over at most `batch` due rows of each kind it handles; returns how many it changed.
    func runOnce(batch: Int, actor: Principal) async throws -> Int
    /// How long to rest after a pass that changed `changed` rows.
    func rest(afterChanging changed: Int, batch: Int) async -> Duration
}

/// Runs a sweep on the leader only, every write fenced by the leader's term (docs/cluster.md).
///
/// Each pass binds a `Database.SweepBinding` whose fence checks, in every transaction, that this instance still holds the epoch it
/// was elected in (locking the leadership row `FOR SHARE`, so a new election waits for the pass's commit), and stamps
/// the epoch on the runs and events it writes. A pass that fails (a lost term, a timeout) halves the batch, down to
/// `minimumBatch`; it logs only when it changed something or failed.
public final class SweepService<S: Sweep>: Service, Sendable {
    public struct Configuration: Sendable {
        public var batch = 100
        public var minimumBatch = 10
        /// How often a follower looks whether it has become leader.
        public var followerPoll: Duration = .milliseconds(250)
        /// The pass is recorded in `docket.sweep_runs` when it changed something, or at least this often.
        public var recordEvery: Duration = .seconds(10)

        public init() {}

        public func validate() throws(DocketError) {
            guard minimumBatch >= 1, batch >= minimumBatch else {
                throw .validation(field: "sweep_batch", "batch must be ≥ minimum batch ≥ 1")
            }
        }
    }

    let sweep: S
    let elector: LeaderElector
    let database: Database
    let configuration: Configuration
    let logger: Logger
    /// Ends a rest early: shutdown fires it, and so may others (the recurrence sweep's: a schedule changed somewhere in
    /// the cluster), so a long rest never holds up a graceful shutdown.
    let wake: WakeSignal
    private let stopping = Mutex(false)

    public init(_ sweep: S, elector: LeaderElector, database: Database, configuration: Configuration = .init(),
                wake: WakeSignal? = nil, logger: Logger) {
        self.wake = wake ?? WakeSignal()
        self.sweep = sweep
        self.elector = elector
        self.database = database
        self.configuration = configuration
        self.logger = logger
    }

    public func run() async throws {
        let actor = Principal(id: "leader:\(elector.instanceId.prefix(8))", type: .system, tenantId: "system",
                              scopes: Set(Scope.allCases))
        let clock = ContinuousClock()
        var batch = configuration.batch
        var lastRecorded = clock.now - configuration.recordEvery
        await withGracefulShutdownHandler {
            while !self.stopping.withLock({ $0 }), !Task.isCancelled {
                guard case .leader(let epoch) = self.elector.currentRole else {
                    try? await Task.sleep(for: self.configuration.followerPoll)
                    continue
                }
                let started = clock.now
                var changed = 0
                do {
                    let binding = Database.SweepBinding(fence: self.fence(epoch), epoch: epoch)
                    let pass = batch
                    changed = try await Database.$sweep.withValue(binding) {
                        try await self.sweep.runOnce(batch: pass, actor: actor)
                    }
                    batch = min(self.configuration.batch, batch * 2)
                    let took = clock.now - started
                    if changed > 0 || clock.now - lastRecorded >= self.configuration.recordEvery {
                        lastRecorded = clock.now
                        try? await self.record(epoch: epoch, changed: changed, took: took)
                    }
                    if changed > 0 {
                        self.logger.info("sweep pass", metadata: ["sweep": "\(self.sweep.kind)", "changed": "\(changed)", "took": "\(took)"])
                    }
                } catch {
                    batch = max(self.configuration.minimumBatch, batch / 2)
                    self.logger.warning("sweep pass failed", metadata: [
                        "sweep": "\(self.sweep.kind)", "error": "\(DatabaseEndpoint.reason(error))", "next_batch": "\(batch)"])
                }
                guard !self.stopping.withLock({ $0 }) else { break }
                await self.wake.wait(upTo: await self.sweep.rest(afterChanging: changed, batch: batch))
            }
        } onGracefulShutdown: {
            self.stopping.withLock { $0 = true }
            self.wake.fire()
        }
    }

    private func fence(_ epoch: Int64) -> Database.Fence {
        let name = elector.configuration.name, instance = elector.instanceId, logger = self.logger
        return { connection in
            guard try await LeadershipQueries(connection, logger: logger).holdsTerm(name: name, instance: instance, epoch: epoch) else {
                throw DocketError(.unavailable, "no longer the leader of epoch \(epoch): the sweep's writes are refused")
            }
        }
    }

    private func record(epoch: Int64, changed: Int, took: Duration) async throws {
        let milliseconds = took.inSeconds * 1000
        let binding = Database.SweepBinding(fence: fence(epoch), epoch: epoch)
        try await Database.$sweep.withValue(binding) {
            try await database.transaction { connection in
                try await SweepRunQueries(connection, logger: self.logger).record(
                    kind: self.sweep.kind, instance: self.elector.instanceId, epoch: epoch, changed: changed,
                    durationMilliseconds: milliseconds)
            }
        }
    }
}
