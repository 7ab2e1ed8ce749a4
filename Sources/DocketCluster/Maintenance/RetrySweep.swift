import DocketCore
import DocketPostgres
import DocketServices
import Foundation

/// Retries (SPEC 4.3): failed jobs whose backoff has passed run their next attempt.
public struct RetrySweep: MaintenanceSweep {
    public struct Configuration: Sendable {
        /// Rest between passes when nothing more is due.
        public var interval: Duration = .milliseconds(500)

        public init() {}
    }

    public let kind = "retries"
    let jobs: JobService
    let database: Database
    let configuration: Configuration
    let now: @Sendable () -> Date

    public init(jobs: JobService, database: Database, configuration: Configuration = .init(),
                now: @escaping @Sendable () -> Date = { Date() }) {
        self.jobs = jobs
        self.database = database
        self.configuration = configuration
        self.now = now
    }

    /// Retries the due batch in one write (`JobService.retryDue(_:by:)`), then, one at a time, the jobs it left: those
    /// with a gate to check, and any it could not take.
    public func runOnce(_ pass: SweepPass) async throws -> SweepResult {
        let jobs = self.jobs.during(pass.term)
        let ids = try await SweepQueries.due(.retry, now: now(), limit: pass.batch, in: database)
        let retried = try await jobs.retryDue(ids, by: pass.actor)
        var changed = retried.count
        for id in ids where !retried.contains(id) {
            do {
                if try await jobs.retryDue(id, by: pass.actor) != nil { changed += 1 }
            } catch let error as DocketError where Self.leftForLater.contains(error.code) {
                continue  // gated for now, or changed meanwhile: the next pass looks again
            }
        }
        return SweepResult(changed: changed, tookFullBatch: ids.count >= pass.batch)
    }

    /// Refusals that leave a job for a later pass instead of failing this one.
    static let leftForLater: Set<DocketError.Code> = [.budgetExceeded, .dependencyError, .rateLimited, .concurrencyError]

    public func rest(after result: SweepResult, _ pass: SweepPass) async -> Duration {
        result.tookFullBatch ? .zero : configuration.interval
    }
}
