import Foundation
import Testing
@testable import DocketCore

struct TimestampTests {
    @Test func formatsInUTCWithMicroseconds() {
        #expect(Timestamp.format(Date(timeIntervalSince1970: 0)) == "1970-01-01T00:00:00.000000Z")
        #expect(Timestamp.format(Date(timeIntervalSince1970: 1_700_000_000.25)) == "2023-11-14T22:13:20.250000Z")
        #expect(Timestamp.format(Date(timeIntervalSince1970: -0.5)) == "1969-12-31T23:59:59.500000Z")
        #expect(Timestamp.format(Date(timeIntervalSince1970: 951_868_800)) == "2000-03-01T00:00:00.000000Z")
    }

    @Test func parsesZuluAndOffsets() throws {
        let zulu = try #require(Timestamp.parse("2026-11-23T07:33:58Z"))
        #expect(zulu.timeIntervalSince1970 == 1_795_419_238)
        #expect(Timestamp.parse("2026-11-23T08:33:58+01:00") == zulu)
        #expect(Timestamp.parse("2026-11-23T02:33:58-05:00") == zulu)
        #expect(Timestamp.parse("2026-11-23T13:03:58+05:30") == zulu)
        #expect(Timestamp.parse("2026-11-23t07:33:58z") == zulu)
        #expect(Timestamp.parse("2026-11-23T07:33:58-00:00") == zulu)
        #expect(Timestamp.parse("2026-11-24T00:33:58+17:00") == zulu)
    }

    @Test func fractionsKeepMicroseconds() throws {
        #expect(Timestamp.format(try #require(Timestamp.parse("2026-11-23T07:33:58.123456Z"))) == "2026-11-23T07:33:58.123456Z")
        #expect(Timestamp.format(try #require(Timestamp.parse("2026-11-23T07:33:58.5Z"))) == "2026-11-23T07:33:58.500000Z")
        #expect(Timestamp.format(try #require(Timestamp.parse("2026-11-23T07:33:58.000001+02:00")))
                == "2026-11-23T05:33:58.000001Z")
        #expect(Timestamp.format(try #require(Timestamp.parse("2026-11-23T07:33:58.123456789Z"))) == "2026-11-23T07:33:58.123457Z",
                "finer than a microsecond rounds to the nearest")
        #expect(Timestamp.format(try #require(Timestamp.parse("2026-12-31T23:59:59.9999996Z"))) == "2027-01-01T00:00:00.000000Z")
        let parsed = try #require(Timestamp.parse("2026-11-23T07:33:58.123456Z"))
        #expect(Timestamp.parse(Timestamp.format(parsed)) == parsed, "format and parse round-trip exactly")
    }

    @Test(arguments: [
        "yesterday", "", "2026-11-23", "2026-11-23T07:33:58", "2026-11-23 07:33:58Z", "2026-11-23T07:33Z",
        "2026-02-29T00:00:00Z", "2026-04-31T00:00:00Z", "2026-13-01T00:00:00Z", "2026-00-10T00:00:00Z",
        "2026-11-23T24:00:00Z", "2026-11-23T07:60:00Z", "2026-11-23T07:33:60Z", "2026-11-23T07:33:58.Z",
        "2026-11-23T07:33:58+0100", "2026-11-23T07:33:58+01", "2026-11-23T07:33:58Zjunk", "26-11-23T07:33:58Z",
        "2026-11-23T07:33:58+24:00", "+2026-11-23T07:33:58Z", "2026-1-23T07:33:58Z",
        // Fields in range, but the instant falls in year 0 or 10000 in UTC (a fuzz finding: it formatted as year 0).
        "0001-01-01T00:00:00+23:59", "0001-01-01T00:00:00+00:01", "9999-12-31T23:59:59-00:01",
        "9999-12-31T23:59:59.9999999Z",
    ])
    func refusesMalformedTimes(_ text: String) {
        #expect(Timestamp.parse(text) == nil, "\(text)")
    }

    @Test func theFirstAndLastRepresentableInstantsFormatBackToThemselves() throws {
        for text in ["0001-01-01T00:00:00Z", "0001-01-01T00:00:00-23:59", "9999-12-31T23:59:59Z", "9999-12-31T23:59:59+23:59"] {
            let formatted = Timestamp.format(try #require(Timestamp.parse(text), "\(text)"))
            #expect(Timestamp.parse(formatted).map(Timestamp.format) == formatted, "\(text) → \(formatted)")
        }
    }

    @Test func leapDaysParse() throws {
        let leap = try #require(Timestamp.parse("2028-02-29T12:00:00Z"))
        #expect(Timestamp.format(leap) == "2028-02-29T12:00:00.000000Z")
        #expect(Timestamp.parse("2000-02-29T00:00:00Z") != nil)
        #expect(Timestamp.parse("2100-02-29T00:00:00Z") == nil, "2100 is not a leap year")
    }

    @Test func civilDatesAgreeWithFoundation() throws {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = try #require(TimeZone(identifier: "UTC"))
        // Foundation's Gregorian calendar is Julian before October 1582; CivilDate is proleptic, so compare after that.
        for days in stride(from: Int64(-130_000), through: 200_000, by: 997) {
            let civil = CivilDate(daysSinceEpoch: days)
            let parts = calendar.dateComponents([.year, .month, .day, .weekday],
                                                from: Date(timeIntervalSince1970: Double(days) * 86_400))
            #expect([civil.year, civil.month, civil.day, civil.weekday + 1]
                    == [parts.year, parts.month, parts.day, parts.weekday].map { $0 ?? -1 }, "day \(days)")
            #expect(civil.daysSinceEpoch == days)
        }
    }

    @Test func isSafeToUseConcurrently() async {
        let texts = (0..<200).map { "2026-01-01T00:00:\(String(format: "%02d", $0 % 60)).\(String(format: "%06d", $0 * 1001))Z" }
        let mismatches = await withTaskGroup(of: Int.self) { group in
            for text in texts {
                group.addTask { Timestamp.parse(text).map(Timestamp.format) == text ? 0 : 1 }
            }
            return await group.reduce(0, +)
        }
        #expect(mismatches == 0)
    }
}
