/// A five-field cron expression (minute hour day-of-month month day-of-week), Vixie-style (SPEC 2.4).
///
/// Fields take `*`, lists `1,5`, ranges `1-5`, steps `*/15` and `10-50/5`, month names JAN–DEC and day names SUN–SAT
/// (any case), and 7 for Sunday. `@hourly @daily @midnight @weekly @monthly @yearly @annually` stand for their
/// expressions. The day fields combine as in Vixie cron: when either starts with `*` a day must match both; when both
/// are restricted a day matches if either does (`0 0 13 * 5` fires on the 13th and on every Friday).
public struct CronExpression: Sendable, Hashable, CustomStringConvertible {
    /// The expression as it was given.
    public let text: String
    let minutes: CronField
    let hours: CronField
    let daysOfMonth: CronField
    let months: CronField
    let daysOfWeek: CronField
    /// Both day fields are restricted (neither starts with `*`): a day matches when either field does.
    let eitherDayMatches: Bool

    static let macros: [String: String] = [
        "@hourly": "0 * * * *", "@daily": "0 0 * * *", "@midnight": "0 0 * * *", "@weekly": "0 0 * * 0",
        "@monthly": "0 0 1 * *", "@yearly": "0 0 1 1 *", "@annually": "0 0 1 1 *",
    ]

    /// Parses `text`; a problem is a `SCHEDULE_ERROR` whose `details["field"]` is the cron field at fault
    /// (`minute`, `hour`, `day_of_month`, `month`, `day_of_week`), or `expression` for the field count or a macro.
    /// Longest expression accepted (the longest sensible one is far shorter; error messages quote the text).
    public static let maxLength = 256

    public init(_ text: String) throws(DocketError) {
        guard text.utf8.count <= Self.maxLength else {
            throw .schedule(field: "expression", "longer than \(Self.maxLength) bytes")
        }
        let trimmed = text.trimmingWhitespace
        var source = Substring(trimmed)
        if trimmed.hasPrefix("@") {
            guard let expanded = Self.macros[trimmed.lowercased()] else {
                throw .schedule(field: "expression",
                    "unknown macro \"\(trimmed)\": expected one of \(Self.macros.keys.sorted().joined(separator: " "))")
            }
            source = Substring(expanded)
        }
        // Fields are separated by spaces and tabs only: other white space (a newline, NBSP, U+3000) is not a separator.
        let fields = source.split(whereSeparator: Self.isSeparator)
        guard fields.count == 5 else {
            throw .schedule(field: "expression",
                "expected 5 fields (minute hour day_of_month month day_of_week), got \(fields.count) in \"\(trimmed)\"")
        }
        self.text = text
        minutes = try CronField(parsing: fields[0], as: .minute)
        hours = try CronField(parsing: fields[1], as: .hour)
        daysOfMonth = try CronField(parsing: fields[2], as: .dayOfMonth)
        months = try CronField(parsing: fields[3], as: .month)
        daysOfWeek = try CronField(parsing: fields[4], as: .dayOfWeek)
        eitherDayMatches = !fields[2].hasPrefix("*") && !fields[4].hasPrefix("*")
    }

    public var description: String { text }

    /// Whether the calendar date matches the month and the two day fields.
    func matches(_ date: CivilDate) -> Bool {
        guard months.contains(date.month) else { return false }
        let byDayOfMonth = daysOfMonth.contains(date.day)
        let byDayOfWeek = daysOfWeek.contains(date.weekday)
        return eitherDayMatches ? byDayOfMonth || byDayOfWeek : byDayOfMonth && byDayOfWeek
    }
}

extension CronExpression {
    static func isSeparator(_ character: Character) -> Bool { character == " " || character == "\t" }
}

extension String {
    fileprivate var trimmingWhitespace: String {
        String(drop(while: CronExpression.isSeparator).reversed().drop(while: CronExpression.isSeparator).reversed())
    }
}
