import DocketBus
import DocketCore
import DocketPostgres
import Foundation
import Logging
import ServiceLifecycle
import Synchronization

/// Runs the maintenance sweeps while this instance leads, as a `Service` (River's queue maintainer has the shape).
///
/// It waits on the elector's role changes, never polls: when a term begins it starts every sweep with that term
/// (`LeaderTerm`: the epoch, and a fence that checks in each transaction that the term is still ours, locking the
/// leadership row `FOR SHARE` so a new election waits for the pass's commit); when the term ends it cancels them.
/// A pass that fails (a lost term, a timeout) halves the sweep's batch, down to `minimumBatch`; one that succeeds
/// doubles it back. Each pass is reported on `reports` (tests wait on them), counted for `/metrics`, and recorded
/// in `docket.sweep_runs` when it changed something or at least every `recordEvery`.
public final class Maintainer: Service, Sendable {
    public struct Configuration: Sendable {
        public var batch = 100
        public var minimumBatch = 10
        public var recordEvery: Duration = .seconds(10)

        public init() {}

        public func validate() throws(DocketError) {
            guard minimumBatch >= 1, batch >= minimumBatch else {
                throw .validation(field: "sweep_batch", "batch must be ≥ minimum batch ≥ 1")
            }
        }
    }

    /// One pass, as reported.
    public struct Report: Sendable {
        public var kind: String
        public var epoch: Int64
        public var result: SweepResult?
        public var duration: Duration
        /// Why the pass failed, when it did.
        public var failure: String?
    }

    /// Each sweep's passes so far (for `/metrics`).
    public struct Totals: Sendable, Hashable {
        public var passes = 0
        public var failures = 0
        public var changed = 0
        public var seconds = 0.0
    }

    let sweeps: [any MaintenanceSweep]
    let elector: LeaderElector
    let database: Database
    let configuration: Configuration
    let logger: Logger
    public let reports = Broadcast<Report>()
    private let totals = Mutex<[String: Totals]>([:])

    public init(_ sweeps: [any MaintenanceSweep], elector: LeaderElector, database: Database,
                configuration: Configuration = .init(), logger: Logger) {
        self.sweeps = sweeps
        self.elector = elector
        self.database = database
        self.configuration = configuration
        self.logger = logger
    }

    /// Passes, failures, rows changed and time spent, by sweep.
    public var statistics: [String: Totals] { totals.withLock { $0 } }

    public func run() async {
        // Graceful shutdown cancels the whole thing: every wait below is cancellation-aware.
        await cancelWhenGracefulShutdown {
            while let role = await self.elector.roles.wait(until: { $0.epoch != nil }), let epoch = role.epoch {
                let term = LeaderTerm(epoch: epoch, fence: self.fence(epoch))
                await withTaskGroup(of: Void.self) { group in
                    for sweep in self.sweeps { group.addTask { await self.drive(sweep, term) } }
                    // The term ends when the role changes (or the elector stops): the sweeps stop with it.
                    group.addTask { _ = await self.elector.roles.wait(until: { $0 != role }) }
                    await group.next()
                    group.cancelAll()
                }
                if Task.isCancelled { break }
            }
        }
        // The elector hears of a graceful shutdown first and closes the roles when it stops, which ends the loop above:
        // stay until this service's own turn (ending earlier would be "finished unexpectedly" to the group).
        try? await gracefulShutdown()
        reports.finish()
    }

    /// One sweep's passes for the length of a term.
    private func drive(_ sweep: any MaintenanceSweep, _ term: LeaderTerm) async {
        let actor = Principal(id: "leader:\(elector.instanceId.prefix(8))", type: .system, tenantId: "system",
                              scopes: Set(Scope.allCases))
        let clock = ContinuousClock()
        var batch = configuration.batch
        var lastRecorded = clock.now - configuration.recordEvery
        while !Task.isCancelled {
            let pass = SweepPass(term: term, batch: batch, actor: actor)
            let started = clock.now
            var result = SweepResult.nothing
            do {
                result = try await sweep.runOnce(pass)
                let took = clock.now - started
                batch = min(configuration.batch, batch * 2)
                count(sweep.kind, result, took, failed: false)
                reports.publish(Report(kind: sweep.kind, epoch: term.epoch, result: result, duration: took))
                if result.changed > 0 || clock.now - lastRecorded >= configuration.recordEvery {
                    lastRecorded = clock.now
                    try? await record(sweep.kind, term, result, took)
                }
                if result.changed > 0 {
                    logger.info("sweep pass", metadata: ["sweep": "\(sweep.kind)", "changed": "\(result.changed)", "took": "\(took)"])
                }
            } catch {
                if Task.isCancelled { return }
                let took = clock.now - started
                batch = max(configuration.minimumBatch, batch / 2)
                count(sweep.kind, .nothing, took, failed: true)
                let reason = DatabaseEndpoint.reason(error)
                reports.publish(Report(kind: sweep.kind, epoch: term.epoch, result: nil, duration: took, failure: reason))
                logger.warning("sweep pass failed", metadata: ["sweep": "\(sweep.kind)", "error": "\(reason)", "next_batch": "\(batch)"])
            }
            let rest = await sweep.rest(after: result, pass)
            if let wake = sweep.wake {
                await wake.wait(upTo: rest)  // returns at once when the term ends (cancellation)
            } else {
                try? await Task.sleep(for: rest)
            }
        }
    }

    private func count(_ kind: String, _ result: SweepResult, _ took: Duration, failed: Bool) {
        totals.withLock { totals in
            var entry = totals[kind] ?? Totals()
            entry.passes += 1
            if failed { entry.failures += 1 }
            entry.changed += result.changed
            entry.seconds += took.inSeconds
            totals[kind] = entry
        }
    }

    /// The check that runs first in every transaction of the term: the term is still this instance's.
    private func fence(_ epoch: Int64) -> LeaderTerm.Fence {
        let name = elector.configuration.name, instance = elector.instanceId, logger = self.logger
        return { connection in
            guard try await LeadershipQueries(connection, logger: logger).holdsTerm(name: name, instance: instance, epoch: epoch) else {
                throw DocketError(.unavailable, "no longer the leader of epoch \(epoch): the sweep's writes are refused")
            }
        }
    }

    private func record(_ kind: String, _ term: LeaderTerm, _ result: SweepResult, _ took: Duration) async throws {
        let instance = elector.instanceId, logger = self.logger
        try await database.transaction(fencedBy: term) { connection in
            try await SweepRunQueries(connection, logger: logger).record(
                kind: kind, instance: instance, epoch: term.epoch, changed: result.changed,
                durationMilliseconds: took.inSeconds * 1000)
        }
    }
}

/// Values published to any number of listeners, each with an `AsyncStream` of its own from when it subscribed.
public final class Broadcast<Value: Sendable>: Sendable {
    private let sinks = Mutex<(open: [Int: AsyncStream<Value>.Continuation], next: Int, finished: Bool)>(([:], 0, false))

    public init() {}

    public func subscribe() -> AsyncStream<Value> {
        let (stream, continuation) = AsyncStream.makeStream(of: Value.self)
        let id = sinks.withLock { state -> Int? in
            guard !state.finished else { return nil }
            state.next += 1
            state.open[state.next] = continuation
            return state.next
        }
        guard let id else {
            continuation.finish()
            return stream
        }
        continuation.onTermination = { [weak self] _ in _ = self?.sinks.withLock { $0.open.removeValue(forKey: id) } }
        return stream
    }

    func publish(_ value: Value) {
        for sink in sinks.withLock({ Array($0.open.values) }) { sink.yield(value) }
    }

    func finish() {
        let open = sinks.withLock { state -> [AsyncStream<Value>.Continuation] in
            state.finished = true
            defer { state.open = [:] }
            return Array(state.open.values)
        }
        for sink in open { sink.finish() }
    }
}
