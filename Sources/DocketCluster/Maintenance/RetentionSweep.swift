import DocketCore
import DocketPostgres
import Foundation

/// Retention (SPEC 4.3): events and finished runs older than `age` are deleted, and so are jobs that ended longer ago
/// than their status's age (`jobAges`: succeeded, cancelled, failed with no retry left) with their runs, a small batch
/// per transaction, so a large backlog never holds long locks or a long transaction (which would also hold the bus's
/// horizon back), and a steady load keeps `docket.jobs` and its indexes at a steady size.
public struct RetentionSweep: MaintenanceSweep {
    public struct Configuration: Sendable {
        /// How old an event or a finished run must be to go; nil keeps them.
        public var age: Duration? = .seconds(30 * 86_400)
        /// How long after it ended a job of each terminal status is deleted; a status not here is kept.
        public var jobAges: [JobStatus: Duration] = [.succeeded: .seconds(86_400), .cancelled: .seconds(7 * 86_400),
                                                     .failed: .seconds(7 * 86_400)]
        /// Rest when nothing more is past its age (a quarter of the age when that is shorter, at least a second).
        public var interval: Duration = .seconds(60)

        public init() {}

        public func validate() throws(DocketError) {
            if let age, age <= .zero { throw .validation(field: "retention", "must be positive") }
            for (status, age) in jobAges {
                guard status.isTerminal else { throw .validation(field: "retain-\(status.rawValue)", "not a final status") }
                guard age > .zero else { throw .validation(field: "retain-\(status.rawValue)", "must be positive") }
            }
        }
    }

    public let kind = "retention"
    let database: Database
    let configuration: Configuration
    let now: @Sendable () -> Date

    public init(database: Database, configuration: Configuration = .init(), now: @escaping @Sendable () -> Date = { Date() }) {
        self.database = database
        self.configuration = configuration
        self.now = now
    }

    public func runOnce(_ pass: SweepPass) async throws -> SweepResult {
        let logger = database.logger, batch = pass.batch
        var events = 0, runs = 0
        if let age = configuration.age {
            let cutoff = now().addingTimeInterval(-age.inSeconds)
            events = try await database.transaction(fencedBy: pass.term) {
                try await SweepQueries($0, logger: logger).pruneEvents(before: cutoff, limit: batch)
            }
            runs = try await database.transaction(fencedBy: pass.term) {
                try await SweepQueries($0, logger: logger).pruneRuns(before: cutoff, limit: batch)
            }
        }
        var jobs = 0, fullJobs = false
        for (status, age) in configuration.jobAges.sorted(by: { $0.key.rawValue < $1.key.rawValue }) {
            let before = now().addingTimeInterval(-age.inSeconds)
            let pruned = try await database.transaction(fencedBy: pass.term) {
                try await SweepQueries($0, logger: logger).pruneJobs(status, before: before, limit: batch)
            }
            jobs += pruned
            fullJobs = fullJobs || pruned >= batch
        }
        return SweepResult(changed: events + runs + jobs, tookFullBatch: events >= batch || runs >= batch || fullJobs)
    }

    /// A short rest while there is more to prune; otherwise a minute, or a quarter of the shortest age when that is
    /// shorter (at least a second).
    public func rest(after result: SweepResult, _ pass: SweepPass) async -> Duration {
        let shortest = ([configuration.age].compactMap { $0 } + configuration.jobAges.values).min() ?? configuration.interval
        return result.changed > 0 ? .milliseconds(50) : min(configuration.interval, max(.seconds(1), shortest / 4))
    }
}
