import DocketCore
import DocketPostgres
import Foundation

/// Retention (SPEC 4.3): events and finished runs older than `age` are deleted, a small batch per transaction, so a
/// large backlog never holds long locks or a long transaction (which would also hold the bus's horizon back).
public struct RetentionSweep: MaintenanceSweep {
    public struct Configuration: Sendable {
        /// How old an event or a finished run must be to go.
        public var age: Duration = .seconds(30 * 86_400)
        /// Rest when nothing more is past its age (a quarter of the age when that is shorter, at least a second).
        public var interval: Duration = .seconds(60)

        public init() {}

        public func validate() throws(DocketError) {
            guard age > .zero else { throw .validation(field: "retention", "must be positive") }
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
        let cutoff = now().addingTimeInterval(-configuration.age.inSeconds), logger = database.logger, batch = pass.batch
        let events = try await database.transaction(fencedBy: pass.term) {
            try await SweepQueries($0, logger: logger).pruneEvents(before: cutoff, limit: batch)
        }
        let runs = try await database.transaction(fencedBy: pass.term) {
            try await SweepQueries($0, logger: logger).pruneRuns(before: cutoff, limit: batch)
        }
        return SweepResult(changed: events + runs, tookFullBatch: events >= batch || runs >= batch)
    }

    /// A short rest while there is more to prune; otherwise a minute, or a quarter of the age when that is shorter.
    public func rest(after result: SweepResult, _ pass: SweepPass) async -> Duration {
        result.changed > 0 ? .milliseconds(50) : min(configuration.interval, max(.seconds(1), configuration.age / 4))
    }
}
