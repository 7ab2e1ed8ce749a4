import Foundation

/// A five-field cron expression (minute hour day-of-month month day-of-week), Vixie-style (SPEC 2.4).
///
/// Fields take `*`, lists, ranges, steps, month and day names (7 is Sunday too); `@hourly`, `@daily`, `@midnight`,
/// `@weekly`, `@monthly`, `@yearly` and `@annually` stand for their expressions. When both day fields are restricted
/// a day matches if either does; when one starts with `*`, both must.
public struct CronExpression: Sendable, Hashable {
    public let text: String
    let minutes: Set<Int>
    let hours: Set<Int>
    let daysOfMonth: Set<Int>
    let months: Set<Int>
    let daysOfWeek: Set<Int>
    let dayOfMonthRestricted: Bool
    let dayOfWeekRestricted: Bool

    static let macros = [
        "@hourly": "0 * * * *", "@daily": "0 0 * * *", "@midnight": "0 0 * * *", "@weekly": "0 0 * * 0",
        "@monthly": "0 0 1 * *", "@yearly": "0 0 1 1 *", "@annually": "0 0 1 1 *",
    ]
    static let monthNames = ["JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC"]
    static let dayNames = ["SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT"]

    public init(_ text: String) throws(DocketError) {
        let trimmed = text.trimmingCharacters(in: .whitespaces)
        var source = trimmed
        if trimmed.hasPrefix("@") {
            guard let expanded = Self.macros[trimmed.lowercased()] else {
                throw .schedule(field: "expression", "unknown macro \(trimmed); known: "
                    + Self.macros.keys.sorted().joined(separator: ", "))
            }
            source = expanded
        }
        let fields = source.split(whereSeparator: { $0 == " " || $0 == "\t" }).map(String.init)
        guard fields.count == 5 else {
            throw .schedule(field: "expression", "needs 5 fields (minute hour day_of_month month day_of_week), got \(fields.count)")
        }
        self.text = trimmed
        minutes = try Self.parse(fields[0], field: "minute", range: 0...59, names: [])
        hours = try Self.parse(fields[1], field: "hour", range: 0...23, names: [])
        daysOfMonth = try Self.parse(fields[2], field: "day_of_month", range: 1...31, names: [])
        months = try Self.parse(fields[3], field: "month", range: 1...12, names: Self.monthNames, nameBase: 1)
        let weekdays = try Self.parse(fields[4], field: "day_of_week", range: 0...7, names: Self.dayNames)
        daysOfWeek = Set(weekdays.map { $0 % 7 })
        dayOfMonthRestricted = !fields[2].hasPrefix("*")
        dayOfWeekRestricted = !fields[4].hasPrefix("*")
    }

    private static func parse(
        _ text: String, field: String, range: ClosedRange<Int>, names: [String], nameBase: Int = 0
    ) throws(DocketError) -> Set<Int> {
        var values = Set<Int>()
        for item in text.split(separator: ",", omittingEmptySubsequences: false) {
            guard !item.isEmpty else { throw .schedule(field: field, "empty item in list \"\(text)\"") }
            let parts = item.split(separator: "/", omittingEmptySubsequences: false)
            guard parts.count <= 2 else { throw .schedule(field: field, "more than one step in \"\(item)\"") }
            var step = 1
            if parts.count == 2 {
                guard let value = Int(parts[1]), value > 0 else {
                    throw .schedule(field: field, "step must be a positive number, got \"\(parts[1])\"")
                }
                step = value
            }
            let base = parts[0]
            var low: Int, high: Int
            if base == "*" {
                (low, high) = (range.lowerBound, range.upperBound)
                if field == "day_of_week" { high = 6 }
            } else {
                let bounds = base.split(separator: "-", omittingEmptySubsequences: false)
                guard bounds.count <= 2, !bounds.contains(where: \.isEmpty) else {
                    throw .schedule(field: field, "malformed range \"\(base)\"")
                }
                low = try value(String(bounds[0]), field: field, range: range, names: names, nameBase: nameBase)
                high = bounds.count == 2
                    ? try value(String(bounds[1]), field: field, range: range, names: names, nameBase: nameBase)
                    : (parts.count == 2 ? range.upperBound : low)
                guard low <= high else {
                    throw .schedule(field: field, "range \(base) runs backwards")
                }
            }
            values.formUnion(stride(from: low, through: high, by: step))
        }
        return values
    }

    private static func value(
        _ text: String, field: String, range: ClosedRange<Int>, names: [String], nameBase: Int
    ) throws(DocketError) -> Int {
        if let index = names.firstIndex(of: text.uppercased()) { return index + nameBase }
        guard let number = Int(text) else {
            throw .schedule(field: field, "\"\(text)\" is not a number" + (names.isEmpty ? "" : " or a name (\(names.joined(separator: " ")))"))
        }
        guard range.contains(number) else {
            throw .schedule(field: field, "\(number) is out of range \(range.lowerBound)–\(range.upperBound)")
        }
        return number
    }

    /// Whether the calendar day (in the schedule's zone) matches the day fields, Vixie-style.
    func matchesDay(month: Int, day: Int, weekday: Int) -> Bool {
        guard months.contains(month) else { return false }
        let byMonthDay = daysOfMonth.contains(day)
        let byWeekday = daysOfWeek.contains(weekday)
        if dayOfMonthRestricted && dayOfWeekRestricted { return byMonthDay || byWeekday }
        return byMonthDay && byWeekday
    }

    /// The first instant strictly after `instant` whose wall-clock time in `timeZone` matches, within eight years.
    ///
    /// A local time that spring-forward skips fires at the next valid instant (02:30 → 03:00); a local time that
    /// fall-back repeats fires once, at its first occurrence.
    public func nextFire(after instant: Date, in timeZone: TimeZone) -> Date? {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = timeZone
        let times = hours.sorted().flatMap { hour in minutes.sorted().map { (hour, $0) } }
        var day = calendar.startOfDay(for: instant)
        for _ in 0..<(366 * 8) {
            guard let nextDay = calendar.date(byAdding: .day, value: 1, to: day) else { return nil }
            let parts = calendar.dateComponents([.year, .month, .day, .weekday], from: day)
            if let month = parts.month, let dayOfMonth = parts.day, let weekday = parts.weekday,
               matchesDay(month: month, day: dayOfMonth, weekday: weekday - 1) {
                // On a day with a DST change wall-clock order and instant order can differ: look at every time.
                let changesOffset = timeZone.nextDaylightSavingTimeTransition(after: day).map { $0 < nextDay } ?? false
                var best: Date?
                for (hour, minute) in times {
                    var wanted = DateComponents()
                    (wanted.year, wanted.month, wanted.day) = (parts.year, month, dayOfMonth)
                    (wanted.hour, wanted.minute, wanted.second) = (hour, minute, 0)
                    guard let candidate = Self.instant(for: wanted, calendar: calendar), candidate > instant else { continue }
                    if best.map({ candidate < $0 }) ?? true { best = candidate }
                    if !changesOffset { break }
                }
                if let best { return best }
            }
            day = calendar.startOfDay(for: nextDay)
        }
        return nil
    }

    /// The instant of a wall-clock time: the first occurrence of a repeated one, the next valid instant of a skipped one.
    static func instant(for wanted: DateComponents, calendar: Calendar) -> Date? {
        guard let date = calendar.date(from: wanted) else { return nil }
        let got = calendar.dateComponents([.day, .hour, .minute], from: date)
        if got.day == wanted.day, got.hour == wanted.hour, got.minute == wanted.minute {
            // A repeated wall-clock time shows again one hour earlier: take the first occurrence.
            let earlier = date.addingTimeInterval(-3600)
            let back = calendar.dateComponents([.day, .hour, .minute], from: earlier)
            return back.day == wanted.day && back.hour == wanted.hour && back.minute == wanted.minute ? earlier : date
        }
        // A skipped wall-clock time: fire when the clock jumps over it.
        return calendar.timeZone.nextDaylightSavingTimeTransition(after: date.addingTimeInterval(-3 * 3600))
            .map { min($0, date) } ?? date
    }
}
