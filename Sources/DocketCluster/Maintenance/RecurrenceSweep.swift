import DocketBus
import DocketCore
import DocketPostgres
import DocketServices
import Foundation

/// Recurrence (SPEC 4.3): scheduled jobs whose time has come start (one run per slot). Between passes it sleeps until
/// the next due time, or until the bus reports a schedule change (`wakes(on:)` fires `wake`), and at most
/// `maximumRest` (the bus off, or a change whose wake-up was lost).
public struct RecurrenceSweep: MaintenanceSweep {
    public struct Configuration: Sendable {
        /// The longest rest: with the bus on, a schedule change wakes the sweep sooner; without it, this is the poll.
        public var maximumRest: Duration = .milliseconds(250)
        /// Plain one-time jobs started by one statement at most.
        public var plainBatch = 100

        public init() {}
    }

    public let kind = "recurrence"
    let jobs: JobService
    let database: Database
    let configuration: Configuration
    let now: @Sendable () -> Date
    public let wake: WakeSignal?

    public init(jobs: JobService, database: Database, configuration: Configuration = .init(), wake: WakeSignal? = nil,
                now: @escaping @Sendable () -> Date = { Date() }) {
        self.jobs = jobs
        self.database = database
        self.configuration = configuration
        self.wake = wake
        self.now = now
    }

    /// Whether `event` may have moved the next due time earlier: a job arrived in `scheduled` — created with a schedule,
    /// re-armed, scheduled or resumed (`job.update` cannot change a schedule). Other job events do not wake the sweep:
    /// under a create-heavy load that would be a pass per batch of events.
    public static func wakes(on event: Event) -> Bool { event.topic == Topic.jobScheduled.rawValue }

    public func runOnce(_ pass: SweepPass) async throws -> SweepResult {
        let jobs = self.jobs.during(pass.term)
        var ids = try await SweepQueries.due(.scheduled, now: now(), limit: pass.batch, in: database)
        guard !ids.isEmpty else { return SweepResult(changed: 0, tookFullBatch: false) }  // an idle pass: one query
        // One statement for the plain one-time jobs; one transaction each for the recurring and gated ones.
        // At most `plainBatch` at once: the statement's transaction holds the leadership row (the fence), which the
        // leader's heartbeat waits for.
        let plainBatch = min(pass.batch, configuration.plainBatch)
        let plain = try await jobs.startDuePlain(limit: plainBatch, by: pass.actor)
        // A full batch: more plain jobs are due; the next pass (at once) takes them before the slower ones.
        if plain >= plainBatch { return SweepResult(changed: plain, tookFullBatch: true) }
        if plain > 0 { ids = try await SweepQueries.due(.scheduled, now: now(), limit: pass.batch, in: database) }
        var changed = plain
        for id in ids {
            do {
                if try await jobs.fireDue(id, by: pass.actor).status != .scheduled { changed += 1 }
            } catch let error as DocketError where error.code == .budgetExceeded || error.code == .dependencyError || error.code == .rateLimited
                || error.code == .invalidTransition {
                continue  // gated (it stays due and is looked at again), or its slot already ran
            }
        }
        return SweepResult(changed: changed, tookFullBatch: ids.count >= pass.batch)
    }

    public func rest(after result: SweepResult, _ pass: SweepPass) async -> Duration {
        if result.tookFullBatch { return .zero }
        guard let next = try? await SweepQueries.nextScheduled(in: database) else { return configuration.maximumRest }
        let wait = next.timeIntervalSince(now())
        if wait <= 0 { return .milliseconds(10) }
        return min(configuration.maximumRest, .microseconds(Int(wait * 1_000_000)))
    }
}
