import Foundation

/// Slot arithmetic: pure, with `now` always passed in.
///
/// The life of a scheduled job: `firstSlot` arms it at creation; when its slot comes, `dueSlot` says which slot the
/// occurrence runs for (or that `skip` drops it); when the occurrence ends (or is dropped), `nextSlot` re-arms it or
/// says the schedule is over.
extension Schedule {
    /// The slot a job created (or re-scheduled) at `createdAt` is first armed with; nil when none is left by `end_at`.
    ///
    /// `once`: `run_at`, even if past (it then fires at once). `interval` with `start_at`: `start_at`, or when that
    /// lies before `createdAt` the first grid slot at or after `createdAt`. `interval` without `start_at`:
    /// `createdAt + every`. `cron`: the first fire at or after `createdAt` (a fire exactly at `createdAt` counts).
    /// Slots before creation are not misfires, so no catch-up run is made for them under either policy.
    public func firstSlot(createdAt: Date) -> Date? {
        let slot: Date?
        switch kind {
        case .once(let runAt):
            slot = runAt
        case .cron(let expression, let zone):
            slot = TimeZone(identifier: zone).flatMap { expression.firstFire(atOrAfter: createdAt, in: $0) }
        case .interval(let every, let startAt?):
            slot = startAt >= createdAt ? startAt : Self.gridSlot(start: startAt, every: every, atOrAfter: createdAt)
        case .interval(let every, nil):
            slot = createdAt.addingTimeInterval(TimeInterval(every))
        }
        return slot.flatMap(notPastEnd)
    }

    /// `firstSlot`, or the `SCHEDULE_ERROR` that says why there is none: `end_at` already passed, or nothing fires
    /// before it.
    public func requireFirstSlot(createdAt: Date) throws(DocketError) -> Date {
        if let slot = firstSlot(createdAt: createdAt) { return slot }
        if let endAt, endAt <= createdAt {
            throw .schedule(field: "end_at", "\(Timestamp.format(endAt)) is in the past: the schedule has no slot left to fire")
        }
        throw .schedule(field: "schedule", "has no slot left to fire before its end")
    }

    /// The next slot strictly after `previous`, ignoring `end_at` and `max_runs`; nil for `once` (and for a cron time
    /// zone Foundation does not know, which `init(json:)` refuses).
    ///
    /// An interval with `start_at` stays on its grid `start_at + k·every` whatever `previous` is; without `start_at`
    /// the grid runs through `previous`, which callers pass as the previous slot.
    public func slot(after previous: Date) -> Date? {
        switch kind {
        case .once:
            return nil
        case .cron(let expression, let zone):
            return TimeZone(identifier: zone).flatMap { expression.nextFire(after: previous, in: $0) }
        case .interval(let every, let startAt?):
            if previous < startAt { return startAt }
            return Self.gridSlot(start: startAt, every: every, atOrAfter: previous.addingTimeInterval(1e-6))
        case .interval(let every, nil):
            return previous.addingTimeInterval(TimeInterval(every))
        }
    }

    /// The slot to re-arm a job with after its occurrence for slot `scheduledFor` ended at `now` (or was dropped by
    /// `dueSlot`); nil when the schedule is over.
    ///
    /// The next slot after `scheduledFor` if it is still ahead of `now`. If it has passed (the run outlasted the
    /// period, or the service was down), `run_once` re-arms with the latest passed slot, which fires at once as the one
    /// catch-up run, and `skip` with the first slot after `now`. Over when `runsSoFar` has reached `max_runs` or the
    /// slot would come after `end_at`; a catch-up never goes past `end_at` either.
    public func nextSlot(afterOccurrence scheduledFor: Date, now: Date, runsSoFar: Int) -> Date? {
        if let maxRuns, runsSoFar >= maxRuns { return nil }
        guard let candidate = slot(after: scheduledFor), let candidate = notPastEnd(candidate) else { return nil }
        guard candidate <= now else { return candidate }
        switch misfire {
        case .runOnce:
            return latestSlot(from: candidate, notAfter: min(now, endAt ?? now))
        case .skip:
            return slot(after: latestSlot(from: candidate, notAfter: now)).flatMap(notPastEnd)
        }
    }

    /// The slot the occurrence of a job armed for `scheduled` (≤ `now`) should run for now; nil when it should not
    /// run (then re-arm with `nextSlot(afterOccurrence: scheduled, now:, runsSoFar:)` without counting a run).
    ///
    /// `once` always runs its `run_at`, however late: misfire governs recurring slots only. `run_once` runs the latest
    /// slot that has come (by `now`, and by `end_at`), so slots missed while the service was down collapse into one
    /// run. `skip` runs that latest slot only if it is at most `grace` late, and otherwise drops it: nil. Nil as well
    /// when `scheduled` is still ahead of `now` or after `end_at`.
    public func dueSlot(scheduled: Date, now: Date, grace: TimeInterval = Schedule.defaultMisfireGrace) -> Date? {
        guard scheduled <= now, notPastEnd(scheduled) != nil else { return nil }
        guard isRecurring else { return scheduled }
        let latest = latestSlot(from: scheduled, notAfter: min(now, endAt ?? now))
        switch misfire {
        case .runOnce: return latest
        case .skip: return now.timeIntervalSince(latest) <= grace ? latest : nil
        }
    }

    /// The last slot not after `limit`, walking from the slot `first` (≤ `limit`).
    ///
    /// Intervals jump there directly. Cron searches back from `limit` in widening windows, so a week of downtime on an
    /// every-minute expression costs a few dozen fires rather than ten thousand.
    func latestSlot(from first: Date, notAfter limit: Date) -> Date {
        guard first < limit else { return first }
        switch kind {
        case .once:
            return first
        case .interval(let every, let startAt):
            let anchor = startAt ?? first
            guard let next = Self.gridSlot(start: anchor, every: every, atOrAfter: limit.addingTimeInterval(1e-6)) else {
                return first
            }
            return max(first, next.addingTimeInterval(-TimeInterval(every)))
        case .cron:
            for window in [3600.0, 86_400, 7 * 86_400, 32 * 86_400, 367 * 86_400, .infinity] {
                let from = max(first, limit.addingTimeInterval(-window))
                var latest: Date? = from == first ? first : nil
                var cursor = from
                while let next = slot(after: cursor), next <= limit {
                    latest = next
                    cursor = next
                }
                if let latest { return latest }
            }
            return first
        }
    }

    /// The first slot of the grid `start + k·every` (k ≥ 0) at or after `instant`.
    static func gridSlot(start: Date, every: Int, atOrAfter instant: Date) -> Date? {
        guard every > 0 else { return nil }
        let period = TimeInterval(every)
        guard instant > start else { return start }
        var steps = (instant.timeIntervalSince(start) / period).rounded(.up)
        // Guard against floating-point error at the boundary.
        if start.addingTimeInterval((steps - 1) * period) >= instant { steps -= 1 }
        if start.addingTimeInterval(steps * period) < instant { steps += 1 }
        return start.addingTimeInterval(steps * period)
    }

    private func notPastEnd(_ slot: Date) -> Date? {
        guard let endAt else { return slot }
        return slot <= endAt ? slot : nil
    }
}
