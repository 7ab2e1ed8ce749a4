import DocketCore
import DocketPostgres
import DocketServices
import Foundation

/// Timeouts (SPEC 4.3): jobs past `timeout_seconds` → failed `TIMEOUT`; expired leases → failed `LEASE_EXPIRED`;
/// graceful cancels past their grace → cancelled; tasks past `timeout_seconds` → pending.
public struct TimeoutSweep: MaintenanceSweep {
    public struct Configuration: Sendable {
        /// Rest between passes when nothing more is due (deadlines are seconds apart: a pass a second is plenty).
        public var interval: Duration = .seconds(1)

        public init() {}
    }

    public let kind = "timeouts"
    let jobs: JobService
    let tasks: TaskService
    let database: Database
    let configuration: Configuration
    let now: @Sendable () -> Date

    public init(jobs: JobService, tasks: TaskService, database: Database, configuration: Configuration = .init(),
                now: @escaping @Sendable () -> Date = { Date() }) {
        self.jobs = jobs
        self.tasks = tasks
        self.database = database
        self.configuration = configuration
        self.now = now
    }

    public func runOnce(_ pass: SweepPass) async throws -> SweepResult {
        let jobs = self.jobs.during(pass.term), tasks = self.tasks.during(pass.term)
        var changed = 0, full = false
        for kind in [SweepQueries.Due.jobDeadline, .jobLease, .cancelGrace, .taskDeadline] {
            // A job that times out is one row of one statement: its batch is five times the pass's.
            let ending = kind == .jobDeadline || kind == .jobLease
            let batch = ending ? pass.batch * 5 : pass.batch
            let ids = try await SweepQueries.due(kind, now: now(), limit: batch, in: database)
            full = full || ids.count >= batch
            if ending {
                // A batch ends in one transaction of two statements: 10,000 jobs timing out at once are twenty commits.
                if !ids.isEmpty { changed += try await jobs.expire(ids, lease: kind == .jobLease, by: pass.actor) }
                continue
            }
            for id in ids {
                switch kind {
                case .cancelGrace: changed += try await jobs.cancelPastGrace(id, by: pass.actor) == nil ? 0 : 1
                default: changed += try await tasks.expire(id, by: pass.actor).status == .inProgress ? 0 : 1
                }
            }
        }
        return SweepResult(changed: changed, tookFullBatch: full)
    }

    public func rest(after result: SweepResult, _ pass: SweepPass) async -> Duration {
        result.tookFullBatch ? .zero : configuration.interval
    }
}
