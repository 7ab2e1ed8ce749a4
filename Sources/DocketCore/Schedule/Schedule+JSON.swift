import Foundation

extension Schedule {
    static let fields: Set<String> = ["kind", "run_at", "expression", "timezone", "every_seconds", "start_at", "end_at",
                                      "max_runs", "misfire"]

    /// Parses the wire object; every problem is a `SCHEDULE_ERROR` naming the field.
    public init(json: JSONValue) throws(DocketError) {
        guard case .object(let fields) = json else { throw .schedule(field: "schedule", "must be an object") }
        if let unknown = fields.keys.sorted().first(where: { !Self.fields.contains($0) }) {
            throw .schedule(field: unknown, "unknown schedule field")
        }
        func time(_ name: String) throws(DocketError) -> Date? {
            guard let value = fields[name], value != .null else { return nil }
            guard case .string(let text) = value, let date = WireTime.parse(text) else {
                throw .schedule(field: name, "must be an RFC 3339 time such as 2026-01-31T09:00:00Z")
            }
            return date
        }
        func positive(_ name: String) throws(DocketError) -> Int? {
            guard let value = fields[name], value != .null else { return nil }
            guard case .number(let number) = value, number.rounded() == number, number >= 1, number <= 1e12 else {
                throw .schedule(field: name, "must be a whole number ≥ 1")
            }
            return Int(number)
        }
        let kind: Kind
        var start: Date?
        switch fields["kind"] {
        case .string("once")?:
            guard let runAt = try time("run_at") else { throw .schedule(field: "run_at", "is required for kind once") }
            kind = .once(runAt: runAt)
            start = runAt
        case .string("cron")?:
            guard case .string(let text)? = fields["expression"] else {
                throw .schedule(field: "expression", "is required for kind cron")
            }
            var zone = "UTC"
            if let value = fields["timezone"], value != .null {
                guard case .string(let name) = value, TimeZone(identifier: name) != nil else {
                    throw .schedule(field: "timezone", "must be an IANA time zone name such as Europe/Berlin")
                }
                zone = name
            }
            kind = .cron(try CronExpression(text), timeZone: zone)
        case .string("interval")?:
            guard let every = try positive("every_seconds") else {
                throw .schedule(field: "every_seconds", "is required for kind interval")
            }
            start = try time("start_at")
            kind = .interval(everySeconds: every, startAt: start)
        case .string(let other)?:
            throw .schedule(field: "kind", "must be once, cron or interval, got \"\(other)\"")
        default:
            throw .schedule(field: "kind", "is required: once, cron or interval")
        }
        let endAt = try time("end_at")
        if let endAt, let start, endAt < start { throw .schedule(field: "end_at", "is before the schedule's start") }
        var misfire = MisfirePolicy.runOnce
        if let value = fields["misfire"], value != .null {
            guard case .string(let name) = value, let policy = MisfirePolicy(rawValue: name) else {
                throw .schedule(field: "misfire", "must be run_once or skip")
            }
            misfire = policy
        }
        self.init(kind: kind, endAt: endAt, maxRuns: try positive("max_runs"), misfire: misfire)
    }

    /// The wire object.
    public var json: JSONValue {
        var fields: [String: JSONValue] = ["misfire": .string(misfire.rawValue)]
        switch kind {
        case .once(let runAt):
            fields["kind"] = .string("once")
            fields["run_at"] = .string(WireTime.format(runAt))
        case .cron(let expression, let zone):
            fields["kind"] = .string("cron")
            fields["expression"] = .string(expression.text)
            fields["timezone"] = .string(zone)
        case .interval(let every, let startAt):
            fields["kind"] = .string("interval")
            fields["every_seconds"] = .number(Double(every))
            if let startAt { fields["start_at"] = .string(WireTime.format(startAt)) }
        }
        if let endAt { fields["end_at"] = .string(WireTime.format(endAt)) }
        if let maxRuns { fields["max_runs"] = .number(Double(maxRuns)) }
        return .object(fields)
    }
}
