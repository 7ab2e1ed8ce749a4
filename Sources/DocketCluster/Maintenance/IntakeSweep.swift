import DocketBus
import DocketCore
import DocketPostgres
import DocketServices
import Foundation

/// SQL enqueue (docs/sql-enqueue.md): committed `docket.enqueue()` requests become jobs, woken by the function's
/// notification (a commit elsewhere is seen within one catch-up), with a short poll when the bus is off. Requests
/// processed a week ago are deleted a batch at a time.
public struct IntakeSweep: MaintenanceSweep {
    public struct Configuration: Sendable {
        /// Rest between passes when nothing more waits (a notification ends it early).
        public var interval: Duration = .seconds(1)
        /// How long a processed request is kept (to read with `docket.enqueue_status`).
        public var keep: Duration = .seconds(7 * 86_400)

        public init() {}
    }

    public let kind = "intake"
    let jobs: JobService
    let configuration: Configuration
    public let wake: WakeSignal?
    let now: @Sendable () -> Date

    public init(jobs: JobService, wake: WakeSignal?, configuration: Configuration = .init(), now: @escaping @Sendable () -> Date = { Date() }) {
        self.jobs = jobs
        self.wake = wake
        self.configuration = configuration
        self.now = now
    }

    public func runOnce(_ pass: SweepPass) async throws -> SweepResult {
        let jobs = self.jobs.during(pass.term)
        let admitted = try await jobs.admitRequests(limit: pass.batch, by: pass.actor)
        let keep = Double(configuration.keep.components.seconds)
        let pruned = try await jobs.pruneRequests(processedBefore: now().addingTimeInterval(-keep), limit: pass.batch, by: pass.actor)
        return SweepResult(changed: admitted.taken + pruned, tookFullBatch: admitted.taken >= pass.batch || pruned >= pass.batch)
    }

    public func rest(after result: SweepResult, _ pass: SweepPass) async -> Duration {
        result.tookFullBatch ? .zero : configuration.interval
    }
}
