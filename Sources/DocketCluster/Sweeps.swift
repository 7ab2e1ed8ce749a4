import DocketCore
import DocketPostgres
import DocketServices
import Foundation
import Logging

/// Timeouts (SPEC 4.3): jobs past `timeout_seconds` → failed `TIMEOUT`; expired leases → failed `LEASE_EXPIRED`;
/// graceful cancels past their grace → cancelled; tasks past `timeout_seconds` → pending.
public struct TimeoutSweep: Sweep {
    public let kind = "timeouts"
    let jobs: JobService
    let tasks: TaskService
    let database: Database
    /// Rest between passes (deadlines are seconds apart: a pass a second is plenty).
    public var interval: Duration = .seconds(1)

    public init(jobs: JobService, tasks: TaskService, database: Database) {
        self.jobs = jobs
        self.tasks = tasks
        self.database = database
    }

    public func runOnce(batch: Int, actor: Principal) async throws -> Int {
        var changed = 0
        for kind in [SweepQueries.Due.jobDeadline, .jobLease, .cancelGrace, .taskDeadline] {
            for id in try await due(kind, batch: batch) {
                switch kind {
                case .jobDeadline: changed += try await jobs.expire(id, lease: false, by: actor).status == .running ? 0 : 1
                case .jobLease: changed += try await jobs.expire(id, lease: true, by: actor).status == .running ? 0 : 1
                case .cancelGrace: changed += try await jobs.cancelPastGrace(id, by: actor) == nil ? 0 : 1
                default: changed += try await tasks.expire(id, by: actor).status == .inProgress ? 0 : 1
                }
            }
        }
        return changed
    }

    func due(_ kind: SweepQueries.Due, batch: Int) async throws -> [UUID] {
        try await database.read { try await SweepQueries($0, logger: database.logger).due(kind, now: Date(), limit: batch) }
    }

    public func rest(afterChanging changed: Int, batch: Int) async -> Duration {
        changed >= batch ? .zero : interval
    }
}

/// Retries (SPEC 4.3): failed jobs whose backoff has passed run their next attempt.
public struct RetrySweep: Sweep {
    public let kind = "retries"
    let jobs: JobService
    let database: Database
    public var interval: Duration = .milliseconds(500)

    public init(jobs: JobService, database: Database) {
        self.jobs = jobs
        self.database = database
    }

    public func runOnce(batch: Int, actor: Principal) async throws -> Int {
        var changed = 0
        let ids = try await database.read { try await SweepQueries($0, logger: database.logger).due(.retry, now: Date(), limit: batch) }
        for id in ids {
            do {
                if try await jobs.retryDue(id, by: actor) != nil { changed += 1 }
            } catch let error as DocketError where error.code == .budgetExceeded || error.code == .dependencyError
                || error.code == .concurrencyError {
                continue  // gated for now, or changed meanwhile: the next pass looks again
            }
        }
        return changed
    }

    public func rest(afterChanging changed: Int, batch: Int) async -> Duration {
        changed >= batch ? .zero : interval
    }
}

/// Recurrence (SPEC 4.3): scheduled jobs whose time has come start (one run per slot). Between passes it sleeps until
/// the next due time, or until the bus reports a schedule change (`RecurrenceSweep.wakes(on:)`), and at most
/// `maximumRest` (the bus off, or a change whose wake-up was lost).
public struct RecurrenceSweep: Sweep {
    public let kind = "recurrence"
    let jobs: JobService
    let database: Database
    public var maximumRest: Duration

    public init(jobs: JobService, database: Database, maximumRest: Duration = .milliseconds(250)) {
        self.jobs = jobs
        self.database = database
        self.maximumRest = maximumRest
    }

    /// Whether `event` may have moved the next due time earlier: a job arrived in `scheduled` — created with a schedule,
    /// re-armed, scheduled or resumed (`job.update` cannot change a schedule). Other job events do not wake the sweep:
    /// under a create-heavy load that would be a pass per batch of events.
    public static func wakes(on event: Event) -> Bool { event.topic == Topic.jobScheduled.rawValue }

    public func runOnce(batch: Int, actor: Principal) async throws -> Int {
        var changed = 0
        let ids = try await database.read { try await SweepQueries($0, logger: database.logger).due(.scheduled, now: Date(), limit: batch) }
        for id in ids {
            do {
                if try await jobs.fireDue(id, by: actor).status != .scheduled { changed += 1 }
            } catch let error as DocketError where error.code == .budgetExceeded || error.code == .dependencyError
                || error.code == .invalidTransition {
                continue  // gated (it stays due and is looked at again), or its slot already ran
            }
        }
        return changed
    }

    public func rest(afterChanging changed: Int, batch: Int) async -> Duration {
        if changed >= batch { return .zero }
        guard let next = try? await database.read({ try await SweepQueries($0, logger: database.logger).nextScheduled() }) else {
            return maximumRest
        }
        let wait = next.timeIntervalSinceNow
        if wait <= 0 { return .milliseconds(10) }
        return min(maximumRest, .microseconds(Int(wait * 1_000_000)))
    }
}

/// Retention (SPEC 4.3): events and finished runs older than `age` are deleted, a small batch per transaction, so a
/// large backlog never holds long locks or a long transaction (which would also hold the bus's horizon back).
public struct RetentionSweep: Sweep {
    public let kind = "retention"
    let database: Database
    public let age: Duration
    /// Rest when nothing more is past its age.
    public var interval: Duration = .seconds(60)

    public init(database: Database, age: Duration) {
        self.database = database
        self.age = age
    }

    public func runOnce(batch: Int, actor: Principal) async throws -> Int {
        let cutoff = Date().addingTimeInterval(-age.inSeconds)
        let events = try await database.transaction { try await SweepQueries($0, logger: database.logger).pruneEvents(before: cutoff, limit: batch) }
        let runs = try await database.transaction { try await SweepQueries($0, logger: database.logger).pruneRuns(before: cutoff, limit: batch) }
        return events + runs
    }

    /// A short rest while there is more to prune; otherwise a minute, or a quarter of the age when that is shorter.
    public func rest(afterChanging changed: Int, batch: Int) async -> Duration {
        changed > 0 ? .milliseconds(50) : min(interval, max(.seconds(1), age / 4))
    }
}
