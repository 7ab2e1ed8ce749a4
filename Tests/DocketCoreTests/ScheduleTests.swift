import Foundation
import Testing
@testable import DocketCore

struct ScheduleTests {
    func t(_ text: String) -> Date { Timestamp.parse(text)! }

    func schedule(_ members: [String: JSONValue]) throws -> Schedule { try Schedule(json: .object(members)) }

    // MARK: Wire object

    @Test func parsesEachKind() throws {
        let once = try schedule(["kind": .string("once"), "run_at": .string("2026-01-01T10:00:00+01:00")])
        #expect(once == Schedule(kind: .once(runAt: t("2026-01-01T09:00:00Z"))))
        let cron = try schedule(["kind": .string("cron"), "expression": .string("0 9 * * MON"), "timezone": .string("Europe/Berlin"), "max_runs": .number(3),
                                 "end_at": .string("2027-01-01T00:00:00Z"), "misfire": .string("skip")])
        #expect(cron == Schedule(kind: .cron(try CronExpression("0 9 * * MON"), timeZone: "Europe/Berlin"),
                                 endAt: t("2027-01-01T00:00:00Z"), maxRuns: 3, misfire: .skip))
        let utc = try schedule(["kind": .string("cron"), "expression": .string("@daily"), "timezone": .null])
        #expect(utc.kind == .cron(try CronExpression("@daily"), timeZone: "UTC"), "timezone defaults to UTC")
        #expect(utc.misfire == .runOnce, "misfire defaults to run_once")
        let interval = try schedule(["kind": .string("interval"), "every_seconds": .number(90), "start_at": .string("2026-01-01T00:00:00.5Z")])
        #expect(interval.kind == .interval(everySeconds: 90, startAt: t("2026-01-01T00:00:00.5Z")))
        #expect(interval.endAt == nil && interval.maxRuns == nil)
    }

    @Test func writesTheWireShape() throws {
        let cron = try schedule(["kind": .string("cron"), "expression": .string("*/5 * * * *")])
        #expect(cron.json == .object(["kind": .string("cron"), "expression": .string("*/5 * * * *"), "timezone": .string("UTC"), "misfire": .string("run_once")]))
        let interval = Schedule(kind: .interval(everySeconds: 60, startAt: t("2026-01-01T00:00:00Z")),
                                endAt: t("2026-02-01T00:00:00Z"), maxRuns: 10, misfire: .skip)
        #expect(interval.json == .object([
            "kind": .string("interval"), "every_seconds": .number(60), "start_at": .string("2026-01-01T00:00:00.000000Z"),
            "end_at": .string("2026-02-01T00:00:00.000000Z"), "max_runs": .number(10), "misfire": .string("skip")]))
        #expect(Schedule(kind: .once(runAt: t("2026-01-01T09:00:00.123456Z"))).json
                == .object(["kind": .string("once"), "run_at": .string("2026-01-01T09:00:00.123456Z"), "misfire": .string("run_once")]))
    }

    @Test(arguments: [
        ["kind": .string("once"), "run_at": .string("2026-01-01T09:00:00.123456Z"), "end_at": .string("2026-01-02T00:00:00Z")],
        ["kind": .string("cron"), "expression": .string("0 9 * * MON-FRI"), "timezone": .string("America/New_York"), "max_runs": .number(5), "misfire": .string("skip")],
        ["kind": .string("interval"), "every_seconds": .number(3600), "start_at": .string("2026-01-01T00:00:00Z"), "end_at": .string("2026-06-01T00:00:00Z")],
        ["kind": .string("interval"), "every_seconds": .number(1)] as [String: JSONValue],
    ])
    func roundTrips(_ members: [String: JSONValue]) throws {
        let parsed = try schedule(members)
        #expect(try Schedule(json: parsed.json) == parsed)
        #expect(try Schedule(json: parsed.json).json == parsed.json)
    }

    @Test(arguments: [
        (JSONValue.string("daily"), "schedule"),
        (.object([:]), "kind"),
        (.object(["kind": .string("weekly")]), "kind"),
        (.object(["kind": .number(3)]), "kind"),
        (.object(["kind": .string("once")]), "run_at"),
        (.object(["kind": .string("once"), "run_at": .string("tomorrow")]), "run_at"),
        (.object(["kind": .string("once"), "run_at": .number(1_767_225_600)]), "run_at"),
        (.object(["kind": .string("once"), "run_at": .string("2026-01-02T00:00:00Z"), "end_at": .string("2026-01-01T00:00:00Z")]), "end_at"),
        (.object(["kind": .string("once"), "run_at": .string("2026-01-02T00:00:00Z"), "end_at": .string("2026-01-02T00:00:00Z")]), "end_at"),
        (.object(["kind": .string("cron")]), "expression"),
        (.object(["kind": .string("cron"), "expression": .number(5)]), "expression"),
        (.object(["kind": .string("cron"), "expression": .string("0 0 * *")]), "expression"),
        (.object(["kind": .string("cron"), "expression": .string("0 25 * * *")]), "hour"),
        (.object(["kind": .string("cron"), "expression": .string("0 0 * * 9")]), "day_of_week"),
        (.object(["kind": .string("cron"), "expression": .string("@daily"), "timezone": .string("Mars/Olympus")]), "timezone"),
        (.object(["kind": .string("cron"), "expression": .string("@daily"), "timezone": .number(1)]), "timezone"),
        (.object(["kind": .string("cron"), "expression": .string("@daily"), "end_at": .string("soon")]), "end_at"),
        (.object(["kind": .string("interval")]), "every_seconds"),
        (.object(["kind": .string("interval"), "every_seconds": .number(0)]), "every_seconds"),
        (.object(["kind": .string("interval"), "every_seconds": .number(-5)]), "every_seconds"),
        (.object(["kind": .string("interval"), "every_seconds": .number(1.5)]), "every_seconds"),
        (.object(["kind": .string("interval"), "every_seconds": .string("60")]), "every_seconds"),
        (.object(["kind": .string("interval"), "every_seconds": .number(1e12)]), "every_seconds"),
        (.object(["kind": .string("interval"), "every_seconds": .number(5), "start_at": .string("2026-13-01T00:00:00Z")]), "start_at"),
        (.object(["kind": .string("interval"), "every_seconds": .number(5), "start_at": .string("2026-02-01T00:00:00Z"),
                  "end_at": .string("2026-01-01T00:00:00Z")]), "end_at"),
        (.object(["kind": .string("interval"), "every_seconds": .number(5), "max_runs": .number(0)]), "max_runs"),
        (.object(["kind": .string("interval"), "every_seconds": .number(5), "max_runs": .number(2.5)]), "max_runs"),
        (.object(["kind": .string("interval"), "every_seconds": .number(5), "max_runs": .string("3")]), "max_runs"),
        (.object(["kind": .string("interval"), "every_seconds": .number(5), "misfire": .string("later")]), "misfire"),
        (.object(["kind": .string("interval"), "every_seconds": .number(5), "misfire": .bool(true)]), "misfire"),
        (.object(["kind": .string("interval"), "every_seconds": .number(5), "color": .string("red")]), "color"),
        (.object(["kind": .string("interval"), "every_seconds": .number(5), "expression": .string("@daily")]), "expression"),
        (.object(["kind": .string("cron"), "expression": .string("@daily"), "run_at": .string("2026-01-01T00:00:00Z")]), "run_at"),
        (.object(["kind": .string("once"), "run_at": .string("2026-01-01T00:00:00Z"), "timezone": .string("UTC")]), "timezone"),
    ])
    func errorsNameTheField(_ json: JSONValue, _ field: String) throws {
        let error = try #require(throws: DocketError.self) { try Schedule(json: json) }
        #expect(error.code == .scheduleError)
        #expect(error.details["field"] == .string(field), "\(error.message)")
        #expect(error.message.hasPrefix("\(field): "), "\(error.message)")
    }

    @Test func errorMessagesSayWhy() throws {
        let unknown = try #require(throws: DocketError.self) {
            try schedule(["kind": .string("cron"), "expression": .string("@daily"), "timezone": .string("Mars/Olympus")])
        }
        #expect(unknown.message == "timezone: unknown time zone \"Mars/Olympus\": expected an IANA name such as Europe/Berlin, or UTC")
        let every = try #require(throws: DocketError.self) { try schedule(["kind": .string("interval"), "every_seconds": .number(0)]) }
        #expect(every.message == "every_seconds: must be a whole number from 1 to 315360000, got 0")
        let foreign = try #require(throws: DocketError.self) {
            try schedule(["kind": .string("cron"), "expression": .string("@daily"), "every_seconds": .number(5)])
        }
        #expect(foreign.message == "every_seconds: does not apply to a cron schedule")
    }

    // MARK: First slot and the slot after

    @Test func firstSlots() throws {
        let created = t("2026-01-01T09:00:00Z")
        #expect(Schedule(kind: .once(runAt: t("2026-01-01T10:00:00Z"))).firstSlot(createdAt: created) == t("2026-01-01T10:00:00Z"))
        #expect(Schedule(kind: .once(runAt: t("2025-12-31T10:00:00Z"))).firstSlot(createdAt: created) == t("2025-12-31T10:00:00Z"),
                "a past run_at fires at once")
        #expect(Schedule(kind: .interval(everySeconds: 60, startAt: nil)).firstSlot(createdAt: created) == t("2026-01-01T09:01:00Z"))
        #expect(Schedule(kind: .interval(everySeconds: 60, startAt: t("2026-01-02T00:00:00Z"))).firstSlot(createdAt: created)
                == t("2026-01-02T00:00:00Z"))
        #expect(Schedule(kind: .interval(everySeconds: 3600, startAt: t("2025-12-31T00:30:00Z"))).firstSlot(createdAt: created)
                == t("2026-01-01T09:30:00Z"), "a past start_at: the first grid slot at or after creation")
        #expect(Schedule(kind: .interval(everySeconds: 3600, startAt: t("2025-12-31T09:00:00Z"))).firstSlot(createdAt: created)
                == created, "a grid slot exactly at creation counts")

        let hourly = try schedule(["kind": .string("cron"), "expression": .string("0 * * * *")])
        #expect(hourly.firstSlot(createdAt: created) == created, "a cron slot exactly at creation counts")
        #expect(hourly.firstSlot(createdAt: t("2026-01-01T09:00:00.000001Z")) == t("2026-01-01T10:00:00Z"))
        let berlin = try schedule(["kind": .string("cron"), "expression": .string("0 9 * * *"), "timezone": .string("Europe/Berlin")])
        #expect(berlin.firstSlot(createdAt: created) == t("2026-01-02T08:00:00Z"))
    }

    @Test func firstSlotIsNilPastEndAt() throws {
        let ending = try schedule(["kind": .string("cron"), "expression": .string("0 0 * * *"), "end_at": .string("2026-01-01T12:00:00Z")])
        #expect(ending.firstSlot(createdAt: t("2026-01-01T09:00:00Z")) == nil)
        #expect(ending.firstSlot(createdAt: t("2025-12-31T09:00:00Z")) == t("2026-01-01T00:00:00Z"))
        let endsAtSlot = try schedule(["kind": .string("interval"), "every_seconds": .number(60), "end_at": .string("2026-01-01T09:01:00Z")])
        #expect(endsAtSlot.firstSlot(createdAt: t("2026-01-01T09:00:00Z")) == t("2026-01-01T09:01:00Z"), "end_at is inclusive")
    }

    @Test func slotAfter() throws {
        #expect(Schedule(kind: .once(runAt: t("2026-01-01T10:00:00Z"))).slot(after: t("2026-01-01T10:00:00Z")) == nil)
        let free = Schedule(kind: .interval(everySeconds: 90, startAt: nil))
        #expect(free.slot(after: t("2026-01-01T10:00:00.5Z")) == t("2026-01-01T10:01:30.5Z"))
        let grid = Schedule(kind: .interval(everySeconds: 90, startAt: t("2026-01-01T10:00:00Z")))
        #expect(grid.slot(after: t("2026-01-01T09:00:00Z")) == t("2026-01-01T10:00:00Z"))
        #expect(grid.slot(after: t("2026-01-01T10:00:00Z")) == t("2026-01-01T10:01:30Z"))
        #expect(grid.slot(after: t("2026-01-01T10:02:00Z")) == t("2026-01-01T10:03:00Z"), "stays on the start_at grid")
        #expect(grid.slot(after: t("2026-01-02T10:00:00Z")) == t("2026-01-02T10:01:30Z"))
        let cron = try schedule(["kind": .string("cron"), "expression": .string("30 2 * * *"), "timezone": .string("America/New_York")])
        #expect(cron.slot(after: t("2026-03-07T12:00:00Z")) == t("2026-03-08T07:00:00Z"))
    }

    // MARK: Re-arming, misfire, end

    @Test func nextSlotOnTime() {
        let every = Schedule(kind: .interval(everySeconds: 60, startAt: nil))
        #expect(every.nextSlot(afterOccurrence: t("2026-01-01T09:01:00Z"), now: t("2026-01-01T09:01:05Z"), runsSoFar: 1)
                == t("2026-01-01T09:02:00Z"))
        let once = Schedule(kind: .once(runAt: t("2026-01-01T10:00:00Z")))
        #expect(once.nextSlot(afterOccurrence: t("2026-01-01T10:00:00Z"), now: t("2026-01-01T10:00:01Z"), runsSoFar: 1) == nil)
    }

    @Test func misfireAfterDowntime() {
        // The occurrence of 09:01 ended at 09:05:30: slots 09:02 … 09:05 passed meanwhile.
        let runOnce = Schedule(kind: .interval(everySeconds: 60, startAt: nil))
        #expect(runOnce.nextSlot(afterOccurrence: t("2026-01-01T09:01:00Z"), now: t("2026-01-01T09:05:30Z"), runsSoFar: 1)
                == t("2026-01-01T09:05:00Z"), "one catch-up run: the latest missed slot")
        #expect(runOnce.nextSlot(afterOccurrence: t("2026-01-01T09:05:00Z"), now: t("2026-01-01T09:05:31Z"), runsSoFar: 2)
                == t("2026-01-01T09:06:00Z"), "after the catch-up, the next future slot")
        let skip = Schedule(kind: .interval(everySeconds: 60, startAt: nil), misfire: .skip)
        #expect(skip.nextSlot(afterOccurrence: t("2026-01-01T09:01:00Z"), now: t("2026-01-01T09:05:30Z"), runsSoFar: 1)
                == t("2026-01-01T09:06:00Z"), "skip continues from the next future slot")
        let grid = Schedule(kind: .interval(everySeconds: 60, startAt: t("2026-01-01T00:00:10Z")), misfire: .skip)
        #expect(grid.nextSlot(afterOccurrence: t("2026-01-01T09:01:10Z"), now: t("2026-01-01T09:05:10Z"), runsSoFar: 1)
                == t("2026-01-01T09:06:10Z"), "a slot exactly at now has passed")
    }

    @Test func cronMisfireAfterDowntime() throws {
        let hourly = try schedule(["kind": .string("cron"), "expression": .string("0 * * * *"), "timezone": .string("Europe/Berlin")])
        #expect(hourly.nextSlot(afterOccurrence: t("2026-01-01T09:00:00Z"), now: t("2026-01-01T14:20:00Z"), runsSoFar: 1)
                == t("2026-01-01T14:00:00Z"))
        let skip = try schedule(["kind": .string("cron"), "expression": .string("0 * * * *"), "misfire": .string("skip")])
        #expect(skip.nextSlot(afterOccurrence: t("2026-01-01T09:00:00Z"), now: t("2026-01-01T14:20:00Z"), runsSoFar: 1)
                == t("2026-01-01T15:00:00Z"))
        // A week down on an every-minute expression: the latest missed minute, found without walking 10 000 fires.
        let minutely = try schedule(["kind": .string("cron"), "expression": .string("* * * * *")])
        #expect(minutely.nextSlot(afterOccurrence: t("2026-01-01T09:00:00Z"), now: t("2026-01-08T09:00:30Z"), runsSoFar: 1)
                == t("2026-01-08T09:00:00Z"))
        // A yearly expression missed twice: the latest (2028) is the catch-up.
        let yearly = try schedule(["kind": .string("cron"), "expression": .string("@yearly")])
        #expect(yearly.nextSlot(afterOccurrence: t("2026-01-01T00:00:00Z"), now: t("2028-06-01T00:00:00Z"), runsSoFar: 1)
                == t("2028-01-01T00:00:00Z"))
    }

    @Test func dueSlotForAJobArmedLongAgo() throws {
        let now = t("2026-01-01T12:00:20Z")
        let hourly = try schedule(["kind": .string("cron"), "expression": .string("0 * * * *")])
        #expect(hourly.dueSlot(scheduled: t("2026-01-01T08:00:00Z"), now: now) == t("2026-01-01T12:00:00Z"),
                "run_once fires the latest missed slot")
        #expect(hourly.dueSlot(scheduled: t("2026-01-01T13:00:00Z"), now: now) == nil, "not due yet")
        let skip = try schedule(["kind": .string("cron"), "expression": .string("0 * * * *"), "misfire": .string("skip")])
        #expect(skip.dueSlot(scheduled: t("2026-01-01T08:00:00Z"), now: now) == t("2026-01-01T12:00:00Z"),
                "the latest slot is only 20 s late: on time")
        #expect(skip.dueSlot(scheduled: t("2026-01-01T08:00:00Z"), now: t("2026-01-01T12:05:00Z")) == nil,
                "every slot is more than a minute late: dropped")
        #expect(skip.dueSlot(scheduled: t("2026-01-01T08:00:00Z"), now: t("2026-01-01T12:05:00Z"), grace: 600)
                == t("2026-01-01T12:00:00Z"))
        #expect(skip.nextSlot(afterOccurrence: t("2026-01-01T08:00:00Z"), now: t("2026-01-01T12:05:00Z"), runsSoFar: 0)
                == t("2026-01-01T13:00:00Z"), "a dropped occurrence re-arms at the next future slot")
        let once = try schedule(["kind": .string("once"), "run_at": .string("2025-06-01T00:00:00Z"), "misfire": .string("skip")])
        #expect(once.dueSlot(scheduled: t("2025-06-01T00:00:00Z"), now: now) == t("2025-06-01T00:00:00Z"),
                "once always runs its run_at")
        let interval = Schedule(kind: .interval(everySeconds: 300, startAt: t("2026-01-01T00:01:00Z")))
        #expect(interval.dueSlot(scheduled: t("2026-01-01T08:01:00Z"), now: now) == t("2026-01-01T11:56:00Z"))
        let ended = try schedule(["kind": .string("cron"), "expression": .string("0 * * * *"), "end_at": .string("2026-01-01T10:30:00Z")])
        #expect(ended.dueSlot(scheduled: t("2026-01-01T08:00:00Z"), now: now) == t("2026-01-01T10:00:00Z"),
                "the catch-up never goes past end_at")
    }

    @Test func maxRunsEndsTheSchedule() {
        let limited = Schedule(kind: .interval(everySeconds: 60, startAt: nil), maxRuns: 3)
        var slot = t("2026-01-01T09:01:00Z")
        var slots = [slot]
        var runs = 1
        while let next = limited.nextSlot(afterOccurrence: slot, now: slot.addingTimeInterval(1), runsSoFar: runs) {
            slots.append(next)
            slot = next
            runs += 1
        }
        #expect(slots == [t("2026-01-01T09:01:00Z"), t("2026-01-01T09:02:00Z"), t("2026-01-01T09:03:00Z")])
    }

    @Test func endAtEndsTheSchedule() throws {
        let ending = Schedule(kind: .interval(everySeconds: 60, startAt: nil), endAt: t("2026-01-01T09:03:00Z"))
        #expect(ending.nextSlot(afterOccurrence: t("2026-01-01T09:02:00Z"), now: t("2026-01-01T09:02:01Z"), runsSoFar: 5)
                == t("2026-01-01T09:03:00Z"), "end_at is inclusive")
        #expect(ending.nextSlot(afterOccurrence: t("2026-01-01T09:03:00Z"), now: t("2026-01-01T09:03:01Z"), runsSoFar: 6) == nil)
        #expect(ending.firstSlot(createdAt: t("2026-01-01T09:05:00Z")) == nil)
        // Down past end_at: run_once catches up the last slot before end_at; skip has nothing left.
        let cron = try schedule(["kind": .string("cron"), "expression": .string("0 * * * *"), "end_at": .string("2026-01-01T12:30:00Z")])
        #expect(cron.nextSlot(afterOccurrence: t("2026-01-01T09:00:00Z"), now: t("2026-01-01T15:00:00Z"), runsSoFar: 1)
                == t("2026-01-01T12:00:00Z"))
        let skip = try schedule(["kind": .string("cron"), "expression": .string("0 * * * *"), "end_at": .string("2026-01-01T12:30:00Z"), "misfire": .string("skip")])
        #expect(skip.nextSlot(afterOccurrence: t("2026-01-01T09:00:00Z"), now: t("2026-01-01T15:00:00Z"), runsSoFar: 1) == nil)
    }
}
