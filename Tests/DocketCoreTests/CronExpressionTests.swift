import Foundation
import Testing
@testable import DocketCore

struct CronExpressionTests {
    func utc(_ text: String) -> Date { WireTime.parse(text)! }

    func fires(_ expression: String, after start: String, zone: String = "UTC", count: Int) throws -> [String] {
        let cron = try CronExpression(expression)
        let timeZone = try #require(TimeZone(identifier: zone))
        var instant = utc(start)
        var result: [String] = []
        for _ in 0..<count {
            guard let next = cron.nextFire(after: instant, in: timeZone) else { break }
            result.append(WireTime.format(next))
            instant = next
        }
        return result
    }

    @Test func listsRangesStepsAndNames() throws {
        #expect(try fires("0,30 9-10 * * *", after: "2026-01-05T00:00:00Z", count: 5) == [
            "2026-01-05T09:00:00.000000Z", "2026-01-05T09:30:00.000000Z", "2026-01-05T10:00:00.000000Z",
            "2026-01-05T10:30:00.000000Z", "2026-01-06T09:00:00.000000Z"])
        #expect(try fires("*/20 0 1 JAN *", after: "2026-06-01T00:00:00Z", count: 3) == [
            "2027-01-01T00:00:00.000000Z", "2027-01-01T00:20:00.000000Z", "2027-01-01T00:40:00.000000Z"])
        #expect(try fires("10-50/20 12 * * *", after: "2026-01-05T00:00:00Z", count: 3) == [
            "2026-01-05T12:10:00.000000Z", "2026-01-05T12:30:00.000000Z", "2026-01-05T12:50:00.000000Z"])
        // MON-FRI by name; 2026-01-09 is a Friday, so the next is Monday the 12th.
        #expect(try fires("0 8 * * mon-fri", after: "2026-01-09T09:00:00Z", count: 2) == [
            "2026-01-12T08:00:00.000000Z", "2026-01-13T08:00:00.000000Z"])
        #expect(try fires("0 0 * * 7", after: "2026-01-05T00:00:00Z", count: 1) == ["2026-01-11T00:00:00.000000Z"], "7 is Sunday")
    }

    @Test func macros() throws {
        #expect(try fires("@hourly", after: "2026-01-05T10:15:00Z", count: 1) == ["2026-01-05T11:00:00.000000Z"])
        #expect(try fires("@daily", after: "2026-01-05T10:15:00Z", count: 1) == ["2026-01-06T00:00:00.000000Z"])
        #expect(try fires("@weekly", after: "2026-01-05T10:15:00Z", count: 1) == ["2026-01-11T00:00:00.000000Z"])
        #expect(try fires("@monthly", after: "2026-01-05T10:15:00Z", count: 1) == ["2026-02-01T00:00:00.000000Z"])
        #expect(try fires("@yearly", after: "2026-01-05T10:15:00Z", count: 1) == ["2027-01-01T00:00:00.000000Z"])
    }

    @Test func february29FiresOnlyInLeapYears() throws {
        #expect(try fires("0 0 29 2 *", after: "2026-01-01T00:00:00Z", count: 2) == [
            "2028-02-29T00:00:00.000000Z", "2032-02-29T00:00:00.000000Z"])
    }

    @Test func impossibleDateEndsQuickly() throws {
        let clock = ContinuousClock()
        let started = clock.now
        #expect(try CronExpression("0 0 30 2 *").nextFire(after: utc("2026-01-01T00:00:00Z"), in: .gmt) == nil)
        #expect(clock.now - started < .seconds(5))
    }

    @Test func vixieDayRule() throws {
        // Both restricted: the 13th OR any Friday. 2026-02-06 is a Friday, the 13th is a Friday too.
        #expect(try fires("0 0 13 * 5", after: "2026-02-01T00:00:00Z", count: 3) == [
            "2026-02-06T00:00:00.000000Z", "2026-02-13T00:00:00.000000Z", "2026-02-20T00:00:00.000000Z"])
        // Day-of-week is *: only the 13th.
        #expect(try fires("0 0 13 * *", after: "2026-02-01T00:00:00Z", count: 2) == [
            "2026-02-13T00:00:00.000000Z", "2026-03-13T00:00:00.000000Z"])
        // Day-of-month is */1 (starts with *): AND, so only Fridays.
        #expect(try fires("0 0 */1 * 5", after: "2026-02-01T00:00:00Z", count: 2) == [
            "2026-02-06T00:00:00.000000Z", "2026-02-13T00:00:00.000000Z"])
    }

    @Test func springForwardNewYork() throws {
        // 2026-03-08: 02:00 EST jumps to 03:00 EDT. 02:30 does not exist: it fires at 03:00 EDT (07:00Z), once.
        #expect(try fires("30 2 * * *", after: "2026-03-07T12:00:00Z", zone: "America/New_York", count: 3) == [
            "2026-03-08T07:00:00.000000Z", "2026-03-09T06:30:00.000000Z", "2026-03-10T06:30:00.000000Z"])
        #expect(try fires("0 * * * *", after: "2026-03-08T05:30:00Z", zone: "America/New_York", count: 3) == [
            "2026-03-08T06:00:00.000000Z", "2026-03-08T07:00:00.000000Z", "2026-03-08T08:00:00.000000Z"])
    }

    @Test func fallBackNewYork() throws {
        // 2026-11-01: 02:00 EDT falls back to 01:00 EST. 01:30 happens twice; it fires once, at the first (05:30Z).
        #expect(try fires("30 1 * * *", after: "2026-10-31T12:00:00Z", zone: "America/New_York", count: 2) == [
            "2026-11-01T05:30:00.000000Z", "2026-11-02T06:30:00.000000Z"])
        // Every 15 minutes across the change: the repeated hour's wall-clock times are not fired again.
        let quarter = try fires("*/15 * * * *", after: "2026-11-01T05:40:00Z", zone: "America/New_York", count: 3)
        #expect(quarter == ["2026-11-01T05:45:00.000000Z", "2026-11-01T07:00:00.000000Z", "2026-11-01T07:15:00.000000Z"])
    }

    @Test func berlinTransitions() throws {
        // 2026-03-29: 02:00 CET jumps to 03:00 CEST. 02:30 fires at 03:00 CEST = 01:00Z.
        #expect(try fires("30 2 * * *", after: "2026-03-28T12:00:00Z", zone: "Europe/Berlin", count: 2) == [
            "2026-03-29T01:00:00.000000Z", "2026-03-30T00:30:00.000000Z"])
        // 2026-10-25: 03:00 CEST falls back to 02:00 CET. 02:30 fires once, at 00:30Z (CEST).
        #expect(try fires("30 2 * * *", after: "2026-10-24T12:00:00Z", zone: "Europe/Berlin", count: 2) == [
            "2026-10-25T00:30:00.000000Z", "2026-10-26T01:30:00.000000Z"])
    }

    @Test(arguments: [
        ("* * * *", "expression"), ("* * * * * *", "expression"), ("60 * * * *", "minute"), ("* 24 * * *", "hour"),
        ("* * 0 * *", "day_of_month"), ("* * 32 * *", "day_of_month"), ("* * * 13 *", "month"), ("* * * FOO *", "month"),
        ("* * * * 8", "day_of_week"), ("*/0 * * * *", "minute"), ("5-1 * * * *", "minute"), ("1,,2 * * * *", "minute"),
        ("@fortnightly", "expression"), ("* * * * SUNDAY", "day_of_week"), ("1-2-3 * * * *", "minute"),
    ])
    func invalidExpressionsNameTheField(_ expression: String, _ field: String) throws {
        let error = try #require(throws: DocketError.self) { try CronExpression(expression) }
        #expect(error.code == .scheduleError)
        #expect(error.details["field"] == .string(field), "\(expression): \(error.message)")
    }
}
