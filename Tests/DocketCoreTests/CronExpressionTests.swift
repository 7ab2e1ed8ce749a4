import Foundation
import Testing
@testable import DocketCore

struct CronExpressionTests {
    func t(_ text: String) -> Date { Timestamp.parse(text)! }

    func values(_ field: CronField) -> [Int] { (0..<64).filter(field.contains) }

    /// The next `count` fires after `start`, each found from the previous one, formatted.
    func fires(_ expression: String, after start: String, zone: String = "UTC", count: Int) throws -> [String] {
        let cron = try CronExpression(expression)
        let timeZone = try #require(TimeZone(identifier: zone))
        var instant = t(start)
        var result: [String] = []
        for _ in 0..<count {
            guard let next = cron.nextFire(after: instant, in: timeZone) else { break }
            result.append(Timestamp.format(next))
            instant = next
        }
        return result
    }

    // MARK: Parsing

    @Test func parsesListsRangesAndSteps() throws {
        #expect(values(try CronExpression("1,5 * * * *").minutes) == [1, 5])
        #expect(values(try CronExpression("1-5 * * * *").minutes) == [1, 2, 3, 4, 5])
        #expect(values(try CronExpression("*/15 * * * *").minutes) == [0, 15, 30, 45])
        #expect(values(try CronExpression("10-50/5 * * * *").minutes) == Array(stride(from: 10, through: 50, by: 5)))
        #expect(values(try CronExpression("5/20 * * * *").minutes) == [5, 25, 45], "N/S means N-max/S")
        #expect(values(try CronExpression("0 1-3,20-22/2 * * *").hours) == [1, 2, 3, 20, 22])
        #expect(values(try CronExpression("0 0 */10 * *").daysOfMonth) == [1, 11, 21, 31])
        #expect(values(try CronExpression("0 0 1 */3 *").months) == [1, 4, 7, 10])
        #expect(values(try CronExpression("0 0 * * *").daysOfWeek) == [0, 1, 2, 3, 4, 5, 6])
        #expect(values(try CronExpression("0 0 * * */2").daysOfWeek) == [0, 2, 4, 6])
    }

    @Test func parsesNamesInAnyCase() throws {
        #expect(values(try CronExpression("0 0 1 JAN,mar-May *").months) == [1, 3, 4, 5])
        #expect(values(try CronExpression("0 0 1 dec *").months) == [12])
        #expect(values(try CronExpression("0 0 * * MON-fri").daysOfWeek) == [1, 2, 3, 4, 5])
        #expect(values(try CronExpression("0 0 * * sun,Sat").daysOfWeek) == [0, 6])
        #expect(values(try CronExpression("0 0 * * 7").daysOfWeek) == [0], "7 is Sunday")
        #expect(values(try CronExpression("0 0 * * 5-7").daysOfWeek) == [0, 5, 6])
        #expect(values(try CronExpression("0 0 * * 0-7").daysOfWeek) == [0, 1, 2, 3, 4, 5, 6])
    }

    @Test(arguments: [
        ("@hourly", "0 * * * *"), ("@daily", "0 0 * * *"), ("@midnight", "0 0 * * *"), ("@weekly", "0 0 * * 0"),
        ("@monthly", "0 0 1 * *"), ("@yearly", "0 0 1 1 *"), ("@annually", "0 0 1 1 *"), ("@DAILY", "0 0 * * *"),
    ])
    func macrosStandForTheirExpressions(_ macro: String, _ expanded: String) throws {
        let a = try CronExpression(macro)
        let b = try CronExpression(expanded)
        #expect(a.text == macro)
        #expect([a.minutes, a.hours, a.daysOfMonth, a.months, a.daysOfWeek] == [b.minutes, b.hours, b.daysOfMonth, b.months, b.daysOfWeek])
        #expect(a.eitherDayMatches == b.eitherDayMatches)
    }

    @Test func keepsTheOriginalTextAndAcceptsTabs() throws {
        let cron = try CronExpression(" 0\t9 * * MON-FRI ")
        #expect(cron.text == " 0\t9 * * MON-FRI ")
        #expect(values(cron.hours) == [9])
        #expect(cron.description == cron.text)
    }

    @Test(arguments: [
        ("* * * *", "expression", "expected 5 fields"), ("* * * * * *", "expression", "got 6"),
        ("   ", "expression", "got 0"), ("@fortnightly", "expression", "unknown macro"),
        ("@reboot", "expression", "unknown macro"), ("@daily 5", "expression", "unknown macro"),
        ("60 * * * *", "minute", "allowed 0-59"), ("99999999999999999999 * * * *", "minute", "out of range"),
        ("* 24 * * *", "hour", "allowed 0-23"), ("* * 0 * *", "day_of_month", "allowed 1-31"),
        ("* * 32 * *", "day_of_month", "allowed 1-31"), ("* * * 13 *", "month", "allowed 1-12"),
        ("* * * 0 *", "month", "allowed 1-12"), ("* * * FOO *", "month", "unknown month name \"FOO\""),
        ("* * * JANUARY *", "month", "unknown month name"), ("* * * * 8", "day_of_week", "allowed 0-7"),
        ("* * * * SUNDAY", "day_of_week", "unknown day name"), ("*/0 * * * *", "minute", "bad step"),
        ("*/ * * * *", "minute", "bad step"), ("*/x * * * *", "minute", "bad step"), ("* */25 * * *", "hour", "1 to 24"),
        ("5-1 * * * *", "minute", "reversed range \"5-1\""), ("* * * * FRI-MON", "day_of_week", "reversed range"),
        ("1,,2 * * * *", "minute", "empty item"), ("1, * * * *", "minute", "empty item"),
        ("1-2-3 * * * *", "minute", "malformed range"), ("-5 * * * *", "minute", "malformed range"),
        ("1/2/3 * * * *", "minute", "more than one"), ("JAN * * * *", "minute", "not a number"),
        ("+5 * * * *", "minute", "not a number"), ("* * ? * *", "day_of_month", "not a number"),
        ("* * L * *", "day_of_month", "not a number"),
    ])
    func invalidExpressionsNameTheField(_ expression: String, _ field: String, _ reason: String) throws {
        let error = try #require(throws: DocketError.self) { try CronExpression(expression) }
        #expect(error.code == .scheduleError)
        #expect(error.details["field"] == .string(field), "\(expression): \(error.message)")
        #expect(error.message.hasPrefix("\(field): "))
        #expect(error.message.contains(reason), "\(expression): \(error.message)")
    }

    @Test func errorMessageSaysWhy() throws {
        let error = try #require(throws: DocketError.self) { try CronExpression("60 * * * *") }
        #expect(error.description == "SCHEDULE_ERROR: minute: 60 is out of range: allowed 0-59")
    }

    // MARK: Fires in UTC

    @Test func firesOnListsRangesStepsAndNames() throws {
        #expect(try fires("0,30 9-10 * * *", after: "2026-01-05T00:00:00Z", count: 5) == [
            "2026-01-05T09:00:00.000000Z", "2026-01-05T09:30:00.000000Z", "2026-01-05T10:00:00.000000Z",
            "2026-01-05T10:30:00.000000Z", "2026-01-06T09:00:00.000000Z"])
        #expect(try fires("*/20 0 1 JAN *", after: "2026-06-01T00:00:00Z", count: 4) == [
            "2027-01-01T00:00:00.000000Z", "2027-01-01T00:20:00.000000Z", "2027-01-01T00:40:00.000000Z",
            "2028-01-01T00:00:00.000000Z"])
        #expect(try fires("10-50/20 12 * * *", after: "2026-01-05T00:00:00Z", count: 4) == [
            "2026-01-05T12:10:00.000000Z", "2026-01-05T12:30:00.000000Z", "2026-01-05T12:50:00.000000Z",
            "2026-01-06T12:10:00.000000Z"])
        // 2026-01-09 is a Friday, so after its 08:00 the next weekday fire is Monday the 12th.
        #expect(try fires("0 8 * * mon-fri", after: "2026-01-09T09:00:00Z", count: 2) == [
            "2026-01-12T08:00:00.000000Z", "2026-01-13T08:00:00.000000Z"])
        #expect(try fires("0 0 * * 7", after: "2026-01-05T00:00:00Z", count: 2) == [
            "2026-01-11T00:00:00.000000Z", "2026-01-18T00:00:00.000000Z"])
        #expect(try fires("0 0 31 * *", after: "2026-04-01T00:00:00Z", count: 3) == [
            "2026-05-31T00:00:00.000000Z", "2026-07-31T00:00:00.000000Z", "2026-08-31T00:00:00.000000Z"])
    }

    @Test func firesMacros() throws {
        #expect(try fires("@hourly", after: "2026-01-05T10:15:00Z", count: 2) == [
            "2026-01-05T11:00:00.000000Z", "2026-01-05T12:00:00.000000Z"])
        #expect(try fires("@daily", after: "2026-01-05T10:15:00Z", count: 1) == ["2026-01-06T00:00:00.000000Z"])
        #expect(try fires("@midnight", after: "2026-01-05T10:15:00Z", count: 1) == ["2026-01-06T00:00:00.000000Z"])
        #expect(try fires("@weekly", after: "2026-01-05T10:15:00Z", count: 2) == [
            "2026-01-11T00:00:00.000000Z", "2026-01-18T00:00:00.000000Z"])
        #expect(try fires("@monthly", after: "2026-01-05T10:15:00Z", count: 2) == [
            "2026-02-01T00:00:00.000000Z", "2026-03-01T00:00:00.000000Z"])
        #expect(try fires("@yearly", after: "2026-01-05T10:15:00Z", count: 1) == ["2027-01-01T00:00:00.000000Z"])
        #expect(try fires("@annually", after: "2026-01-05T10:15:00Z", count: 1) == ["2027-01-01T00:00:00.000000Z"])
    }

    @Test func strictlyAfterVersusAtOrAfter() throws {
        let hourly = try CronExpression("0 * * * *")
        #expect(hourly.nextFire(after: t("2026-01-01T09:00:00Z"), in: .gmt) == t("2026-01-01T10:00:00Z"))
        #expect(hourly.firstFire(atOrAfter: t("2026-01-01T09:00:00Z"), in: .gmt) == t("2026-01-01T09:00:00Z"))
        #expect(hourly.nextFire(after: t("2026-01-01T08:59:59.999999Z"), in: .gmt) == t("2026-01-01T09:00:00Z"))
        #expect(hourly.firstFire(atOrAfter: t("2026-01-01T09:00:00.000001Z"), in: .gmt) == t("2026-01-01T10:00:00Z"))
    }

    @Test func february29FiresOnlyInLeapYears() throws {
        #expect(try fires("0 0 29 2 *", after: "2026-01-01T00:00:00Z", count: 3) == [
            "2028-02-29T00:00:00.000000Z", "2032-02-29T00:00:00.000000Z", "2036-02-29T00:00:00.000000Z"])
        // 2100 is not a leap year: eight years pass between 2096 and 2104.
        #expect(try fires("0 0 29 2 *", after: "2096-03-01T00:00:00Z", count: 1) == ["2104-02-29T00:00:00.000000Z"])
    }

    @Test(arguments: ["0 0 30 2 *", "0 0 31 2 *", "0 0 31 4,6,9,11 *", "59 23 31 FEB,APR *"])
    func impossibleExpressionsEndQuickly(_ expression: String) throws {
        let cron = try CronExpression(expression)
        let clock = ContinuousClock()
        let elapsed = clock.measure {
            #expect(cron.nextFire(after: t("2026-01-01T00:00:00Z"), in: .gmt) == nil)
            #expect(cron.nextFire(after: t("2026-01-01T00:00:00Z"), in: TimeZone(identifier: "America/New_York")!) == nil)
        }
        #expect(elapsed < .seconds(1))
    }

    @Test func vixieDayRule() throws {
        // Both restricted: the 15th OR any Monday (2026-04-13, 20 and 27 are Mondays; the 15th is a Wednesday).
        #expect(try fires("0 0 15 * MON", after: "2026-04-10T00:00:00Z", count: 4) == [
            "2026-04-13T00:00:00.000000Z", "2026-04-15T00:00:00.000000Z", "2026-04-20T00:00:00.000000Z",
            "2026-04-27T00:00:00.000000Z"])
        // Day-of-week is *: only the 15th.
        #expect(try fires("0 0 15 * *", after: "2026-04-10T00:00:00Z", count: 2) == [
            "2026-04-15T00:00:00.000000Z", "2026-05-15T00:00:00.000000Z"])
        // Day-of-month is */2 (starts with *): AND, so only Mondays on odd days.
        #expect(try fires("0 0 */2 * 1", after: "2026-04-10T00:00:00Z", count: 3) == [
            "2026-04-13T00:00:00.000000Z", "2026-04-27T00:00:00.000000Z", "2026-05-11T00:00:00.000000Z"])
        // Day-of-week is */1 (starts with *): AND, so the 15th whatever its weekday.
        #expect(try fires("0 0 15 * */1", after: "2026-04-10T00:00:00Z", count: 1) == ["2026-04-15T00:00:00.000000Z"])
    }

    // MARK: Time zones and DST

    @Test func firesInTheGivenZone() throws {
        #expect(try fires("0 9 * * *", after: "2026-01-05T00:00:00Z", zone: "Asia/Tokyo", count: 2) == [
            "2026-01-06T00:00:00.000000Z", "2026-01-07T00:00:00.000000Z"])
        #expect(try fires("0 9 * * *", after: "2026-01-05T00:00:00Z", zone: "America/New_York", count: 1) == [
            "2026-01-05T14:00:00.000000Z"])
    }

    @Test func springForwardNewYork() throws {
        // 2026-03-08: 02:00 EST jumps to 03:00 EDT (07:00Z). 02:30 does not exist: it fires at 03:00 EDT, once.
        #expect(try fires("30 2 * * *", after: "2026-03-07T12:00:00Z", zone: "America/New_York", count: 3) == [
            "2026-03-08T07:00:00.000000Z", "2026-03-09T06:30:00.000000Z", "2026-03-10T06:30:00.000000Z"])
        #expect(try fires("0 * * * *", after: "2026-03-08T05:30:00Z", zone: "America/New_York", count: 3) == [
            "2026-03-08T06:00:00.000000Z", "2026-03-08T07:00:00.000000Z", "2026-03-08T08:00:00.000000Z"])
        #expect(try fires("30 * * * *", after: "2026-03-08T05:45:00Z", zone: "America/New_York", count: 3) == [
            "2026-03-08T06:30:00.000000Z", "2026-03-08T07:00:00.000000Z", "2026-03-08T07:30:00.000000Z"])
        #expect(try fires("*/15 * * * *", after: "2026-03-08T06:40:00Z", zone: "America/New_York", count: 4) == [
            "2026-03-08T06:45:00.000000Z", "2026-03-08T07:00:00.000000Z", "2026-03-08T07:15:00.000000Z",
            "2026-03-08T07:30:00.000000Z"])
    }

    @Test func fallBackNewYork() throws {
        // 2026-11-01: 02:00 EDT falls back to 01:00 EST (06:00Z). 01:30 happens twice; it fires once, at 05:30Z (EDT).
        #expect(try fires("30 1 * * *", after: "2026-10-31T12:00:00Z", zone: "America/New_York", count: 2) == [
            "2026-11-01T05:30:00.000000Z", "2026-11-02T06:30:00.000000Z"])
        #expect(try fires("0 * * * *", after: "2026-11-01T03:30:00Z", zone: "America/New_York", count: 4) == [
            "2026-11-01T04:00:00.000000Z", "2026-11-01T05:00:00.000000Z", "2026-11-01T07:00:00.000000Z",
            "2026-11-01T08:00:00.000000Z"])
        #expect(try fires("*/15 * * * *", after: "2026-11-01T05:40:00Z", zone: "America/New_York", count: 3) == [
            "2026-11-01T05:45:00.000000Z", "2026-11-01T07:00:00.000000Z", "2026-11-01T07:15:00.000000Z"])
        // From inside the second 01:xx hour, the repeated wall-clock times do not fire again.
        #expect(try fires("*/15 * * * *", after: "2026-11-01T06:10:00Z", zone: "America/New_York", count: 2) == [
            "2026-11-01T07:00:00.000000Z", "2026-11-01T07:15:00.000000Z"])
    }

    @Test func transitionsInBerlin() throws {
        // 2026-03-29: 02:00 CET jumps to 03:00 CEST (01:00Z). 02:30 fires at 03:00 CEST.
        #expect(try fires("30 2 * * *", after: "2026-03-28T12:00:00Z", zone: "Europe/Berlin", count: 2) == [
            "2026-03-29T01:00:00.000000Z", "2026-03-30T00:30:00.000000Z"])
        #expect(try fires("0 * * * *", after: "2026-03-28T23:30:00Z", zone: "Europe/Berlin", count: 3) == [
            "2026-03-29T00:00:00.000000Z", "2026-03-29T01:00:00.000000Z", "2026-03-29T02:00:00.000000Z"])
        #expect(try fires("*/15 * * * *", after: "2026-03-29T00:40:00Z", zone: "Europe/Berlin", count: 3) == [
            "2026-03-29T00:45:00.000000Z", "2026-03-29T01:00:00.000000Z", "2026-03-29T01:15:00.000000Z"])
        // 2026-10-25: 03:00 CEST falls back to 02:00 CET (01:00Z). 02:30 fires once, at 00:30Z (CEST).
        #expect(try fires("30 2 * * *", after: "2026-10-24T12:00:00Z", zone: "Europe/Berlin", count: 2) == [
            "2026-10-25T00:30:00.000000Z", "2026-10-26T01:30:00.000000Z"])
        #expect(try fires("0 * * * *", after: "2026-10-24T22:30:00Z", zone: "Europe/Berlin", count: 3) == [
            "2026-10-24T23:00:00.000000Z", "2026-10-25T00:00:00.000000Z", "2026-10-25T02:00:00.000000Z"])
        #expect(try fires("*/15 * * * *", after: "2026-10-25T00:40:00Z", zone: "Europe/Berlin", count: 3) == [
            "2026-10-25T00:45:00.000000Z", "2026-10-25T02:00:00.000000Z", "2026-10-25T02:15:00.000000Z"])
    }

    @Test(arguments: ["America/New_York", "Europe/Berlin"])
    func hourlyOverAYearFiresOncePerWallClockHour(_ zone: String) throws {
        // A local year has 8760 wall-clock hours; the one spring-forward skips collapses into 03:00's fire.
        let timeZone = try #require(TimeZone(identifier: zone))
        let cron = try CronExpression("0 * * * *")
        let start = t("2026-01-01T00:00:00Z").addingTimeInterval(-TimeInterval(timeZone.secondsFromGMT(for: t("2026-01-01T00:00:00Z"))) - 1)
        let end = start.addingTimeInterval(365 * 86_400)
        var instant = start
        var count = 0
        while let next = cron.nextFire(after: instant, in: timeZone), next <= end {
            #expect(next > instant)
            count += 1
            instant = next
        }
        #expect(count == 8759)
    }
}

/// The outages issue's schedule findings: gaps longer than eight years, separators, zones, limits.
struct CronHostileInputTests {
    @Test func aFireDecadesAwayIsFound() throws {
        let cron = try CronExpression("0 0 29 2 */7")  // February 29th that is a Sunday
        let utc = try #require(TimeZone(identifier: "UTC"))
        let first = try #require(cron.nextFire(after: Timestamp.parse("2026-12-01T00:00:00Z")!, in: utc))
        #expect(Timestamp.format(first) == "2032-02-29T00:00:00.000000Z")
        let second = try #require(cron.nextFire(after: first, in: utc))
        #expect(Timestamp.format(second) == "2060-02-29T00:00:00.000000Z", "28 years later, not never")
        #expect(try CronExpression("0 0 30 2 *").nextFire(after: first, in: utc) == nil, "a date that never exists")
    }

    @Test func onlySpacesAndTabsSeparateFields() throws {
        #expect(try CronExpression("0\t9 * * *").text == "0\t9 * * *")
        for separator in ["\u{A0}", "\u{3000}", "\n", "\r", "\u{0B}", "\u{0C}"] {
            #expect(throws: DocketError.self, "\(separator.unicodeScalars.first!.value)") { try CronExpression("0\(separator)9 * * *") }
        }
    }

    @Test func longExpressionsAreRefusedWithoutBeingEchoed() throws {
        let long = String(repeating: "1,", count: 50_000) + "1 * * * *"
        do {
            _ = try CronExpression(long)
            Issue.record("a 100 KB expression must be refused")
        } catch {
            #expect(error.code == .scheduleError)
            #expect(error.message.utf8.count < 200)
        }
    }

    @Test func zonesAreIANANamesOrUTC() {
        for name in ["UTC", "Europe/Berlin", "Etc/GMT+5", "America/Argentina/Buenos_Aires", "US/Eastern"] {
            #expect(Schedule.isIANAZone(name), "\(name)")
        }
        for name in ["GMT+5", "UTC+1", "GMT+18", "PST", "IST", "BST", "CEST", "Europe/Nowhere", "europe/berlin", "Etc/GMT+13", "", "/", "UTC\u{0}x"] {
            #expect(!Schedule.isIANAZone(name), "\(name)")
        }
    }

    @Test func anEndInThePastNamesEndAt() throws {
        let schedule = try Schedule(json: .object(["kind": .string("interval"), "every_seconds": .number(60),
                                                   "end_at": .string("2020-01-01T00:00:00Z")]))
        do {
            _ = try schedule.requireFirstSlot(createdAt: Timestamp.parse("2026-12-01T00:00:00Z")!)
            Issue.record("no slot is left")
        } catch {
            #expect(error.details["field"] == .string("end_at"))
        }
    }

    @Test func yearZeroIsNotATime() {
        #expect(Timestamp.parse("0000-01-01T00:00:00Z") == nil)
        #expect(Timestamp.parse("0001-01-01T00:00:00Z") != nil)
    }
}
