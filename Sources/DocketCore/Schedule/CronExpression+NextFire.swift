import Foundation

extension CronExpression {
    /// How far ahead, in calendar years, `nextFire` looks before deciding an expression never fires (`0 0 30 2 *`).
    ///
    /// The Gregorian calendar repeats every 400 years (weekdays included), so an expression that fires at all fires
    /// within 400 years: `0 0 29 2 */7` (February 29th on a Sunday) fires in 2032 and next in 2060. The walk jumps
    /// over months that cannot match, so the whole horizon costs a few thousand steps.
    static let horizonYears = 400

    /// The first instant strictly after `instant` whose wall-clock time in `timeZone` matches; nil when nothing matches
    /// within `horizonYears`.
    ///
    /// Every matching wall-clock minute fires exactly once. A minute that spring-forward skips fires at the instant the
    /// clock jumps (02:30 on New York's spring-forward day fires at 03:00 EDT; several skipped minutes share that one
    /// firing). A minute that fall-back repeats fires at its first occurrence only. Fires are whole seconds.
    public func nextFire(after instant: Date, in timeZone: TimeZone) -> Date? {
        fire(from: instant, inclusive: false, in: timeZone)
    }

    /// Like `nextFire(after:in:)`, but a fire exactly at `instant` counts.
    public func firstFire(atOrAfter instant: Date, in timeZone: TimeZone) -> Date? {
        fire(from: instant, inclusive: true, in: timeZone)
    }

    /// Walks matching wall-clock minutes in wall-clock order, jumping over months, days and hours that cannot match.
    ///
    /// Resolving wall-clock minutes to instants (`WallClock.instant`) never goes backwards as the wall clock advances,
    /// and every minute before the wall-clock time of `instant` resolves to `instant` or earlier. So the first match
    /// at or after that wall-clock minute that resolves past `instant` is the answer; a handful of matches inside a
    /// repeated hour may resolve before `instant` and are passed over.
    private func fire(from instant: Date, inclusive: Bool, in timeZone: TimeZone) -> Date? {
        let clock = WallClock(timeZone: timeZone)
        let start = clock.localSeconds(of: instant)
        let startDay = start >= 0 ? start / 86_400 : (start - 86_399) / 86_400
        let secondOfDay = Int(start - startDay * 86_400)
        var date = CivilDate(daysSinceEpoch: startDay)
        var hour = secondOfDay / 3600
        var minute = secondOfDay / 60 % 60
        let lastYear = date.year + Self.horizonYears
        while date.year <= lastYear {
            guard months.contains(date.month) else {
                (date, hour, minute) = (date.firstOfNextMonth, 0, 0)
                continue
            }
            guard matches(date), let matchedHour = hours.next(from: hour) else {
                (date, hour, minute) = (date.nextDay, 0, 0)
                continue
            }
            if matchedHour != hour { (hour, minute) = (matchedHour, 0) }
            guard let matchedMinute = minutes.next(from: minute) else {
                (hour, minute) = (hour + 1, 0)
                continue
            }
            let local = date.daysSinceEpoch * 86_400 + Int64(hour * 3600 + matchedMinute * 60)
            let fire = clock.instant(localSeconds: local)
            if fire > instant || (inclusive && fire == instant) { return fire }
            minute = matchedMinute + 1
        }
        return nil
    }
}
