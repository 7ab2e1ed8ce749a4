import Foundation

/// When a job runs (SPEC 2.4): once, on a cron expression in an IANA time zone, or every N seconds.
///
/// A schedule yields *slots*, the instants its occurrences are due. `end_at` is inclusive (a slot exactly at `end_at`
/// still fires); `max_runs` caps the occurrences. The slot arithmetic is in `Schedule+Slots.swift`, the wire object
/// in `Schedule+JSON.swift`.
public struct Schedule: Sendable, Hashable {
    public enum Kind: Sendable, Hashable {
        /// One slot at `runAt`; a `runAt` in the past fires at once.
        case once(runAt: Date)
        /// The cron expression's fires in the IANA time zone `timeZone` ("UTC" by default on the wire).
        case cron(CronExpression, timeZone: String)
        /// Slots every `everySeconds`, on the grid `startAt + k·every` when `startAt` is given.
        case interval(everySeconds: Int, startAt: Date?)
    }

    /// What a recurring schedule does with slots that passed while its job could not run (downtime, a long run).
    public enum MisfirePolicy: String, Sendable, Hashable, CaseIterable {
        /// Fire one catch-up run, for the latest missed slot, then continue from the next future slot.
        case runOnce = "run_once"
        /// Drop the missed slots and continue from the next future slot.
        case skip
    }

    public var kind: Kind
    public var endAt: Date?
    public var maxRuns: Int?
    public var misfire: MisfirePolicy

    /// How late a slot may fire and still count as on time under `skip` (Quartz's misfire threshold is also 60 s).
    public static let defaultMisfireGrace: TimeInterval = 60
    /// The largest `every_seconds` accepted: ten 365-day years.
    public static let maxEverySeconds = 315_360_000
    /// The largest `max_runs` accepted (runs are counted in a 32-bit column).
    public static let maxRunsLimit = Int(Int32.max)

    public init(kind: Kind, endAt: Date? = nil, maxRuns: Int? = nil, misfire: MisfirePolicy = .runOnce) {
        self.kind = kind
        self.endAt = endAt
        self.maxRuns = maxRuns
        self.misfire = misfire
    }

    /// Whether the schedule can yield more than one slot.
    public var isRecurring: Bool {
        if case .once = kind { return false }
        return true
    }
}
