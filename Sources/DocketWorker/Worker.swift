import DocketClient
import DocketCore
import Foundation
import Logging
import ServiceLifecycle
import Synchronization

/// Runs jobs with the handlers registered by kind: a `Service` for swift-service-lifecycle.
///
/// It claims in batches up to its free slots (only the kinds it has handlers for, from its queues), woken by the bus
/// (a subscription to the topics that make jobs claimable) with a slow poll as the fallback. Each job runs in a child
/// task beside its heartbeat loop, which renews the lease and turns a graceful cancel or pause into the handler's
/// task cancellation. A result completes the job; a thrown error fails it with its code. Graceful shutdown stops
/// claiming, lets running handlers finish within `shutdownDeadline`, then cancels them.
public final class Worker: Service, Sendable {
    public let options: WorkerOptions
    let docket: Docket
    let handlers: [String: JobHandler]
    let logger: Logger
    let metrics: WorkerMetrics
    private let wake = WakeSignal()
    private let slots = SlotCount()

    /// The topics whose events can make a job claimable.
    static let wakeTopics = ["job.created", "job.scheduled", "job.retried", "job.resumed", "queue.resumed", "queue.updated"]

    public init(docket: Docket, handlers: [String: JobHandler], options: WorkerOptions = WorkerOptions(),
                logger: Logger = Logger(label: "docket.worker")) throws {
        try options.validate()
        guard !handlers.isEmpty else { throw DocketError.validation(field: "handlers", "a worker needs at least one handler") }
        self.docket = docket
        self.handlers = handlers
        self.options = options
        self.logger = logger
        self.metrics = WorkerMetrics(agent: options.agent)
    }

    /// The kinds it takes.
    public var kinds: [String] { handlers.keys.sorted() }

    /// Its counts so far: running, claimed, completed, failed, cancelled, paused, lost, claims.
    public var statistics: WorkerStatistics { WorkerStatistics(metrics.current) }

    public func run() async throws {
        let running = RunningJobs()
        await withDiscardingTaskGroup { group in
            group.addTask { await self.listen() }
            await withGracefulShutdownHandler {
                await self.claimLoop(group: &group, running: running)
            } onGracefulShutdown: {
                self.slots.stop()
                self.wake.fire()
            }
            // Claiming has stopped: give the running handlers their deadline, then stop them.
            if await !running.drained(within: options.shutdownDeadline) {
                logger.warning("shutdown deadline passed; stopping running handlers", metadata: ["running": "\(running.count)"])
                running.stopAll(.shutdown)
                _ = await running.drained(within: .seconds(3_600))
            }
            group.cancelAll()
        }
    }

    private func claimLoop(group: inout DiscardingTaskGroup, running: RunningJobs) async {
        var backoff = Duration.milliseconds(100)
        var lastClaim: ContinuousClock.Instant?
        while !slots.isStopped, !Task.isCancelled {
            let free = slots.free(of: options.concurrency)
            guard free > 0 else {
                await wake.wait(upTo: options.pollInterval)
                continue
            }
            if let lastClaim, ContinuousClock.now < lastClaim + options.claimCooldown {
                // Wake-ups meanwhile are gathered into the next claim (and more slots may free up).
                try? await Task.sleep(until: lastClaim + options.claimCooldown, clock: .continuous)  // models time: the claim cooldown
                continue
            }
            let started = ContinuousClock.now
            lastClaim = started
            let jobs: [Docket.Job]
            do {
                jobs = try await docket.jobs.claim(limit: free, queues: options.queues, kinds: kinds, agent: options.agent,
                                                   leaseSeconds: options.leaseSeconds, tenantId: options.tenantId)
                backoff = .milliseconds(100)
            } catch {
                logger.warning("claim failed", metadata: ["error": "\(error)"])
                await wake.wait(upTo: backoff)
                backoff = min(backoff * 2, options.pollInterval)
                continue
            }
            metrics.claimed(jobs.count, in: ContinuousClock.now - started)
            for job in jobs {
                slots.take()
                let context = JobContext(job: job, docket: docket)
                running.add(context)
                group.addTask {
                    let outcome = await self.execute(context)
                    running.remove(context)
                    self.metrics.finished(outcome)
                    self.slots.release()
                    self.wake.fire()
                }
            }
            // A full batch means more may be waiting: claim again at once.
            if jobs.count < free { await wake.wait(upTo: options.pollInterval) }
        }
    }

    /// Subscribes to the wake topics and fires the wake signal at each event, until cancelled (resubscribing after
    /// a failure; the poll covers the gap).
    private func listen() async {
        while !Task.isCancelled {
            do {
                let subscription = try await docket.subscribe(Self.wakeTopics, tenantId: options.tenantId)
                try await withTaskCancellationHandler {
                    for try await _ in subscription { wake.fire() }
                } onCancel: {
                    Task { await subscription.cancel() }
                }
            } catch {
                logger.debug("wake subscription ended", metadata: ["error": "\(error)"])
            }
            try? await Task.sleep(for: options.pollInterval)  // models time: the pause before subscribing again
        }
    }
}

/// A worker's counts so far.
public struct WorkerStatistics: Sendable, Hashable {
    public var running: Int
    public var claimed: Int
    public var completed: Int
    public var failed: Int
    public var cancelled: Int
    public var paused: Int
    /// Runs the worker gave up without reporting (the job was no longer its own).
    public var lost: Int
    /// Claim calls made.
    public var claims: Int

    init(_ snapshot: WorkerMetrics.Snapshot) {
        running = snapshot.running
        claimed = snapshot.claimed
        completed = snapshot.completed
        failed = snapshot.failed
        cancelled = snapshot.cancelled
        paused = snapshot.paused
        lost = snapshot.lost
        claims = snapshot.claims
    }
}

/// The worker's slots in use, and whether it still claims.
final class SlotCount: Sendable {
    private let state = Mutex((used: 0, stopped: false))

    func free(of total: Int) -> Int { state.withLock { max(0, total - $0.used) } }
    func take() { state.withLock { $0.used += 1 } }
    func release() { state.withLock { $0.used -= 1 } }
    func stop() { state.withLock { $0.stopped = true } }
    var isStopped: Bool { state.withLock { $0.stopped } }
}

/// The jobs running now, so shutdown can wait for them and stop them.
final class RunningJobs: Sendable {
    private let state = Mutex([ObjectIdentifier: JobContext]())
    private let changed = WakeSignal()

    var count: Int { state.withLock { $0.count } }

    func add(_ context: JobContext) { state.withLock { $0[ObjectIdentifier(context)] = context } }

    func remove(_ context: JobContext) {
        state.withLock { _ = $0.removeValue(forKey: ObjectIdentifier(context)) }
        changed.fire()
    }

    func stopAll(_ reason: StopReason) {
        for context in state.withLock({ Array($0.values) }) { context.requestStop(reason) }
    }

    /// Whether every job ended within `limit`.
    func drained(within limit: Duration) async -> Bool {
        let deadline = ContinuousClock.now + limit
        while count > 0 {
            let left = deadline - ContinuousClock.now
            guard left > .zero else { return false }
            await changed.wait(upTo: min(left, .milliseconds(200)))
        }
        return true
    }
}
