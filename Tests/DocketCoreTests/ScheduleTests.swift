import Foundation
import Testing
@testable import DocketCore

struct ScheduleTests {
    func t(_ text: String) -> Date { WireTime.parse(text)! }

    @Test func parsesAndRoundTrips() throws {
        let cron = try Schedule(json: .object(["kind": .string("cron"), "expression": .string("0 9 * * MON"),
                                               "timezone": .string("Europe/Berlin"), "max_runs": .number(3)]))
        #expect(cron.maxRuns == 3)
        #expect(try Schedule(json: cron.json) == cron)
        let interval = try Schedule(json: .object(["kind": .string("interval"), "every_seconds": .number(60),
                                                   "start_at": .string("2026-01-01T00:00:00Z"), "misfire": .string("skip")]))
        #expect(interval.misfire == .skip)
        #expect(try Schedule(json: interval.json) == interval)
    }

    @Test(arguments: [
        (JSONValue.object([:]), "kind"),
        (.object(["kind": .string("weekly")]), "kind"),
        (.object(["kind": .string("once")]), "run_at"),
        (.object(["kind": .string("once"), "run_at": .string("tomorrow")]), "run_at"),
        (.object(["kind": .string("cron"), "expression": .string("0 0 * *")]), "expression"),
        (.object(["kind": .string("cron"), "expression": .string("0 25 * * *")]), "hour"),
        (.object(["kind": .string("cron"), "expression": .string("@daily"), "timezone": .string("Mars/Olympus")]), "timezone"),
        (.object(["kind": .string("interval"), "every_seconds": .number(0)]), "every_seconds"),
        (.object(["kind": .string("interval"), "every_seconds": .number(1.5)]), "every_seconds"),
        (.object(["kind": .string("interval"), "every_seconds": .number(5), "start_at": .string("2026-02-01T00:00:00Z"),
                  "end_at": .string("2026-01-01T00:00:00Z")]), "end_at"),
        (.object(["kind": .string("interval"), "every_seconds": .number(5), "max_runs": .number(0)]), "max_runs"),
        (.object(["kind": .string("interval"), "every_seconds": .number(5), "misfire": .string("later")]), "misfire"),
        (.object(["kind": .string("interval"), "every_seconds": .number(5), "color": .string("red")]), "color"),
    ])
    func errorsNameTheField(_ json: JSONValue, _ field: String) throws {
        let error = try #require(throws: DocketError.self) { try Schedule(json: json) }
        #expect(error.code == .scheduleError)
        #expect(error.details["field"] == .string(field), "\(error.message)")
    }

    @Test func slots() throws {
        let once = Schedule(kind: .once(runAt: t("2026-01-01T10:00:00Z")))
        #expect(once.firstSlot(createdAt: t("2026-01-01T09:00:00Z")) == t("2026-01-01T10:00:00Z"))
        #expect(once.nextSlot(afterOccurrence: t("2026-01-01T10:00:00Z"), now: t("2026-01-01T10:00:01Z"), runsSoFar: 1) == nil)

        let every = Schedule(kind: .interval(everySeconds: 60, startAt: nil))
        #expect(every.firstSlot(createdAt: t("2026-01-01T09:00:00Z")) == t("2026-01-01T09:01:00Z"))
        #expect(every.nextSlot(afterOccurrence: t("2026-01-01T09:01:00Z"), now: t("2026-01-01T09:01:05Z"), runsSoFar: 1)
                == t("2026-01-01T09:02:00Z"))

        let cron = try Schedule(json: .object(["kind": .string("cron"), "expression": .string("0 * * * *")]))
        #expect(cron.firstSlot(createdAt: t("2026-01-01T09:00:00Z")) == t("2026-01-01T09:00:00Z"), "a slot at creation counts")
        #expect(cron.firstSlot(createdAt: t("2026-01-01T09:00:01Z")) == t("2026-01-01T10:00:00Z"))
    }

    @Test func misfirePolicies() throws {
        // Down from 09:01 to 09:05:30: slots 09:02 … 09:05 were missed.
        let runOnce = Schedule(kind: .interval(everySeconds: 60, startAt: nil))
        #expect(runOnce.nextSlot(afterOccurrence: t("2026-01-01T09:01:00Z"), now: t("2026-01-01T09:05:30Z"), runsSoFar: 1)
                == t("2026-01-01T09:05:00Z"), "one catch-up run: the latest missed slot")
        let skip = Schedule(kind: .interval(everySeconds: 60, startAt: nil), misfire: .skip)
        #expect(skip.nextSlot(afterOccurrence: t("2026-01-01T09:01:00Z"), now: t("2026-01-01T09:05:30Z"), runsSoFar: 1)
                == t("2026-01-01T09:06:00Z"), "skip continues from the next future slot")
    }

    @Test func endAtAndMaxRunsEndTheSchedule() {
        let limited = Schedule(kind: .interval(everySeconds: 60, startAt: nil), maxRuns: 2)
        #expect(limited.nextSlot(afterOccurrence: t("2026-01-01T09:01:00Z"), now: t("2026-01-01T09:01:01Z"), runsSoFar: 1) != nil)
        #expect(limited.nextSlot(afterOccurrence: t("2026-01-01T09:02:00Z"), now: t("2026-01-01T09:02:01Z"), runsSoFar: 2) == nil)
        let ending = Schedule(kind: .interval(everySeconds: 60, startAt: nil), endAt: t("2026-01-01T09:02:30Z"))
        #expect(ending.nextSlot(afterOccurrence: t("2026-01-01T09:02:00Z"), now: t("2026-01-01T09:02:01Z"), runsSoFar: 5) == nil)
        #expect(ending.firstSlot(createdAt: t("2026-01-01T09:05:00Z")) == nil)
    }

    @Test func wireTimes() {
        #expect(WireTime.format(t("2026-11-23T07:33:58.123456Z")) == "2026-11-23T07:33:58.123456Z")
        #expect(WireTime.parse("2026-11-23T08:33:58+01:00") == t("2026-11-23T07:33:58Z"))
        #expect(WireTime.parse("yesterday") == nil)
    }
}
