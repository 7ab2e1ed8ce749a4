import Foundation

/// When a job runs (SPEC 2.4): once, on a cron expression in an IANA time zone, or every N seconds.
public struct Schedule: Sendable, Hashable {
    public enum Kind: Sendable, Hashable {
        case once(runAt: Date)
        case cron(CronExpression, timeZone: String)
        case interval(everySeconds: Int, startAt: Date?)
    }

    /// What to do with slots missed while nothing ran.
    public enum MisfirePolicy: String, Sendable, Hashable, CaseIterable {
        /// Fire one catch-up run for the missed slots, then continue from the next future slot.
        case runOnce = "run_once"
        /// Drop the missed slots and continue from the next future slot.
        case skip
    }

    public var kind: Kind
    public var endAt: Date?
    public var maxRuns: Int?
    public var misfire: MisfirePolicy

    public init(kind: Kind, endAt: Date? = nil, maxRuns: Int? = nil, misfire: MisfirePolicy = .runOnce) {
        self.kind = kind
        self.endAt = endAt
        self.maxRuns = maxRuns
        self.misfire = misfire
    }

    /// The first slot of a job created at `createdAt` (an interval without `start_at` first fires one period later),
    /// or nil when none is left before `end_at`.
    public func firstSlot(createdAt: Date) -> Date? {
        let slot: Date?
        switch kind {
        case .once(let runAt): slot = runAt
        case .cron: slot = self.slot(after: createdAt.addingTimeInterval(-0.000_001))
        case .interval(let every, let startAt): slot = startAt ?? createdAt.addingTimeInterval(Double(every))
        }
        return slot.flatMap(withinEnd)
    }

    /// The next slot strictly after `previous`, ignoring `end_at` and `max_runs`.
    public func slot(after previous: Date) -> Date? {
        switch kind {
        case .once: return nil
        case .cron(let expression, let zone):
            return expression.nextFire(after: previous, in: TimeZone(identifier: zone) ?? .gmt)
        case .interval(let every, _):
            return previous.addingTimeInterval(Double(every))
        }
    }

    /// The slot to re-arm a recurring job with after its occurrence at `scheduledFor` ended at `now`, under the misfire
    /// policy; nil when `max_runs` is used up or no slot is left before `end_at`.
    public func nextSlot(afterOccurrence scheduledFor: Date, now: Date, runsSoFar: Int) -> Date? {
        if let maxRuns, runsSoFar >= maxRuns { return nil }
        guard var candidate = slot(after: scheduledFor) else { return nil }
        if candidate <= now {
            // The latest missed slot, and the first one after now.
            let latest = latestSlot(from: candidate, notAfter: now)
            switch misfire {
            case .runOnce: candidate = latest  // one catch-up run; the slot after it lies in the future
            case .skip:
                guard let future = slot(after: latest) else { return nil }
                candidate = future
            }
        }
        return withinEnd(candidate)
    }

    /// Walks from slot `first` (≤ `limit`) to the last slot not after `limit`; intervals jump there directly.
    private func latestSlot(from first: Date, notAfter limit: Date) -> Date {
        if case .interval(let every, _) = kind {
            let periods = (limit.timeIntervalSince(first) / Double(every)).rounded(.down)
            return first.addingTimeInterval(periods * Double(every))
        }
        var latest = first
        var steps = 0
        while let next = slot(after: latest), next <= limit, steps < 100_000 {
            latest = next
            steps += 1
        }
        return latest
    }

    private func withinEnd(_ slot: Date) -> Date? {
        guard let endAt else { return slot }
        return slot <= endAt ? slot : nil
    }
}
