import Foundation

/// Times on the wire: RFC 3339 in UTC with a fraction (`2026-11-23T07:33:58.123456Z`).
public enum WireTime {
    static let utcCalendar: Calendar = {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(identifier: "UTC")!
        return calendar
    }()

    /// Formats `date` in UTC with microseconds.
    public static func format(_ date: Date) -> String {
        let seconds = date.timeIntervalSince1970
        var whole = seconds.rounded(.down)
        var micros = Int(((seconds - whole) * 1_000_000).rounded())
        if micros == 1_000_000 { whole += 1; micros = 0 }
        let c = utcCalendar.dateComponents([.year, .month, .day, .hour, .minute, .second],
                                           from: Date(timeIntervalSince1970: whole))
        func pad(_ value: Int?, _ width: Int) -> String {
            let text = String(value ?? 0)
            return String(repeating: "0", count: max(0, width - text.count)) + text
        }
        return "\(pad(c.year, 4))-\(pad(c.month, 2))-\(pad(c.day, 2))T\(pad(c.hour, 2)):\(pad(c.minute, 2)):"
            + "\(pad(c.second, 2)).\(pad(micros, 6))Z"
    }

    /// Parses an RFC 3339 time (`Z` or an offset, with or without a fraction), or nil.
    public static func parse(_ text: String) -> Date? {
        if let date = try? Date.ISO8601FormatStyle(includingFractionalSeconds: true).parse(text) { return date }
        return try? Date.ISO8601FormatStyle().parse(text)
    }

    /// Parses a wire time field or throws `VALIDATION_ERROR` naming it.
    public static func parse(_ value: JSONValue, field: String) throws(DocketError) -> Date {
        guard case .string(let text) = value, let date = parse(text) else {
            throw .validation(field: field, "must be an RFC 3339 time such as 2026-01-31T09:00:00Z")
        }
        return date
    }
}
