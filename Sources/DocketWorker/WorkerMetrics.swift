import CoreMetrics
import Synchronization

/// The worker's own figures: sent to the process's metrics backend (swift-metrics, labels `docket_worker_*`) and kept
/// as a snapshot for the application and its tests.
final class WorkerMetrics: Sendable {
    /// The worker's counts so far.
    struct Snapshot: Sendable, Hashable {
        var running = 0
        var claimed = 0
        var completed = 0
        var failed = 0
        var cancelled = 0
        var paused = 0
        var lost = 0
        var claims = 0
    }

    private let snapshot = Mutex(Snapshot())
    private let runningGauge: Meter
    private let completedCounter: Counter
    private let failedCounter: Counter
    private let claimLatency: Timer

    init(agent: String) {
        let dimensions = [("agent", agent)]
        runningGauge = Meter(label: "docket_worker_running", dimensions: dimensions)
        completedCounter = Counter(label: "docket_worker_completed_total", dimensions: dimensions)
        failedCounter = Counter(label: "docket_worker_failed_total", dimensions: dimensions)
        claimLatency = Timer(label: "docket_worker_claim_seconds", dimensions: dimensions, preferredDisplayUnit: .seconds)
    }

    var current: Snapshot { snapshot.withLock { $0 } }

    func claimed(_ count: Int, in duration: Duration) {
        claimLatency.recordNanoseconds(Int64(duration.components.seconds) * 1_000_000_000 + duration.components.attoseconds / 1_000_000_000)
        let running = snapshot.withLock { state -> Int in
            state.claims += 1
            state.claimed += count
            state.running += count
            return state.running
        }
        runningGauge.set(running)
    }

    func finished(_ outcome: Outcome) {
        let running = snapshot.withLock { state -> Int in
            state.running -= 1
            switch outcome {
            case .completed: state.completed += 1
            case .failed: state.failed += 1
            case .cancelled: state.cancelled += 1
            case .paused: state.paused += 1
            case .lost: state.lost += 1
            }
            return state.running
        }
        runningGauge.set(running)
        switch outcome {
        case .completed: completedCounter.increment()
        case .failed: failedCounter.increment()
        default: break
        }
    }

    /// How a run ended, as the worker reported it.
    enum Outcome: Sendable { case completed, failed, cancelled, paused, lost }
}
