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

    public func runOnce(_ pass: SweepPass) async throws -> SweepResult {
        let jobs = self.jobs.during(pass.term)
        let ids = try await SweepQueries.due(.retry, now: now(), limit: pass.batch, in: database)
        var changed = 0
        for id in ids {
            do {
                if try await jobs.retryDue(id, by: pass.actor) != nil { changed += 1 }
            } catch let error as DocketError where error.code == .budgetExceeded || error.code == .dependencyError || error.code == .rateLimited
                || error.code == .concurrencyError {
                continue  // gated for now, or changed meanwhile: the next pass looks again
            }
        }
        return SweepResult(changed: changed, tookFullBatch: ids.count >= pass.batch)
    }

    public func rest(after result: SweepResult, _ pass: SweepPass) async -> Duration {
        result.tookFullBatch ? .zero : configuration.interval
    }
}
