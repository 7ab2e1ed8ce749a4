import Foundation

/// RFC 3339 times as the protocol writes them: `2026-11-23T07:33:58.123456Z`.
///
/// Hand-written over UTF-8 and `CivilDate`, so it shares no formatter between threads and keeps microseconds exactly.
public enum Timestamp {
    /// Microseconds from 1970-01-01 to Foundation's reference date, 2001-01-01.
    static let referenceOffsetMicros: Int64 = 978_307_200 * 1_000_000

    /// Parses `YYYY-MM-DDTHH:MM:SS[.fraction](Z|±HH:MM)`, or nil.
    ///
    /// `t` and `z` may be lower case. A fraction finer than a microsecond is rounded to the nearest microsecond.
    /// Leap seconds (`:60`), year 0 and out-of-range fields (February 30, hour 24) are refused, and so is an instant
    /// whose UTC year falls outside 1...9999 (`0001-01-01T00:00:00+23:59`): what parses formats back to four digits.
    public static func parse(_ text: String) -> Date? {
        var reader = Reader(Array(text.utf8))
        guard let year = reader.digits(4), reader.take(UInt8(ascii: "-")),
              let month = reader.digits(2), reader.take(UInt8(ascii: "-")),
              let day = reader.digits(2), reader.take(UInt8(ascii: "T")) || reader.take(UInt8(ascii: "t")),
              let hour = reader.digits(2), reader.take(UInt8(ascii: ":")),
              let minute = reader.digits(2), reader.take(UInt8(ascii: ":")),
              let second = reader.digits(2)
        else { return nil }
        // Year 0 does not exist in PostgreSQL's calendar (1 BC comes before AD 1).
        guard year >= 1, (1...12).contains(month), (1...CivilDate.days(inMonth: month, year: year)).contains(day),
              hour < 24, minute < 60, second < 60
        else { return nil }
        var micros: Int64 = 0
        if reader.take(UInt8(ascii: ".")) {
            guard let fraction = reader.fractionMicros() else { return nil }
            micros = fraction
        }
        let offsetSeconds: Int64
        if reader.take(UInt8(ascii: "Z")) || reader.take(UInt8(ascii: "z")) {
            offsetSeconds = 0
        } else {
            let sign: Int64
            if reader.take(UInt8(ascii: "+")) { sign = 1 } else if reader.take(UInt8(ascii: "-")) { sign = -1 } else { return nil }
            guard let offsetHour = reader.digits(2), reader.take(UInt8(ascii: ":")), let offsetMinute = reader.digits(2),
                  offsetHour < 24, offsetMinute < 60
            else { return nil }
            offsetSeconds = sign * Int64(offsetHour * 3600 + offsetMinute * 60)
        }
        guard reader.isAtEnd else { return nil }
        let days = CivilDate(year: year, month: month, day: day).daysSinceEpoch
        let seconds = days * 86_400 + Int64(hour * 3600 + minute * 60 + second) - offsetSeconds
        let instant = seconds * 1_000_000 + micros
        guard representable.contains(instant) else { return nil }
        return date(microsSince1970: instant)
    }

    /// Microseconds since 1970 from 0001-01-01T00:00:00Z up to, not including, 10000-01-01T00:00:00Z.
    static let representable: Range<Int64> =
        CivilDate(year: 1, month: 1, day: 1).daysSinceEpoch * 86_400_000_000
        ..< CivilDate(year: 10_000, month: 1, day: 1).daysSinceEpoch * 86_400_000_000

    /// Formats `date` in UTC with exactly six fractional digits, rounding to the nearest microsecond.
    public static func format(_ date: Date) -> String {
        let micros = microsSince1970(date)
        let seconds = micros >= 0 ? micros / 1_000_000 : (micros - 999_999) / 1_000_000
        let fraction = micros - seconds * 1_000_000
        let days = seconds >= 0 ? seconds / 86_400 : (seconds - 86_399) / 86_400
        let secondOfDay = Int(seconds - days * 86_400)
        let civil = CivilDate(daysSinceEpoch: days)
        return "\(pad(civil.year, 4))-\(pad(civil.month, 2))-\(pad(civil.day, 2))T\(pad(secondOfDay / 3600, 2)):"
            + "\(pad(secondOfDay / 60 % 60, 2)):\(pad(secondOfDay % 60, 2)).\(pad(Int(fraction), 6))Z"
    }

    /// The instant `micros` microseconds after 1970-01-01T00:00:00Z.
    static func date(microsSince1970 micros: Int64) -> Date {
        Date(timeIntervalSinceReferenceDate: Double(micros - referenceOffsetMicros) / 1_000_000)
    }

    /// `date` in whole microseconds since 1970, rounded to the nearest.
    static func microsSince1970(_ date: Date) -> Int64 {
        Int64((date.timeIntervalSinceReferenceDate * 1_000_000).rounded()) + referenceOffsetMicros
    }

    private static func pad(_ value: Int, _ width: Int) -> String {
        let digits = String(value)
        return digits.count >= width ? digits : String(repeating: "0", count: width - digits.count) + digits
    }

    /// A cursor over ASCII bytes.
    private struct Reader {
        let bytes: [UInt8]
        var index = 0

        init(_ bytes: [UInt8]) { self.bytes = bytes }

        var isAtEnd: Bool { index == bytes.count }

        mutating func take(_ byte: UInt8) -> Bool {
            guard index < bytes.count, bytes[index] == byte else { return false }
            index += 1
            return true
        }

        /// Exactly `count` decimal digits as a number.
        mutating func digits(_ count: Int) -> Int? {
            guard index + count <= bytes.count else { return nil }
            var value = 0
            for byte in bytes[index..<index + count] {
                guard let digit = Self.digit(byte) else { return nil }
                value = value * 10 + digit
            }
            index += count
            return value
        }

        /// One or more fraction digits, as microseconds rounded half up (at most 1_000_000).
        mutating func fractionMicros() -> Int64? {
            var micros: Int64 = 0
            var count = 0
            var roundUp = false
            while index < bytes.count, let digit = Self.digit(bytes[index]) {
                if count < 6 {
                    micros = micros * 10 + Int64(digit)
                } else if count == 6 {
                    roundUp = digit >= 5
                }
                count += 1
                index += 1
            }
            guard count > 0 else { return nil }
            for _ in count..<max(count, 6) { micros *= 10 }
            return micros + (roundUp ? 1 : 0)
        }

        private static func digit(_ byte: UInt8) -> Int? {
            (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte) ? Int(byte - UInt8(ascii: "0")) : nil
        }
    }
}
