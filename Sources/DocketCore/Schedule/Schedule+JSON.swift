import Foundation

extension Schedule {
    /// The keys each kind accepts besides `kind`; the common ones are in `commonKeys`.
    static let kindKeys: [String: Set<String>] = [
        "once": ["run_at"], "cron": ["expression", "timezone"], "interval": ["every_seconds", "start_at"],
    ]
    static let commonKeys: Set<String> = ["kind", "end_at", "max_runs", "misfire"]

    /// Parses the wire object `{kind: "once", run_at}`, `{kind: "cron", expression, timezone?}` or
    /// `{kind: "interval", every_seconds, start_at?}`, each with optional `end_at`, `max_runs` and `misfire`.
    ///
    /// Every problem is a `SCHEDULE_ERROR` whose `details["field"]` names the key at fault (for a bad cron expression,
    /// the cron field: `minute`, `hour`, …). Unknown keys, and keys of another kind, are refused by name. Times are
    /// RFC 3339 strings; `null` counts as absent for optional keys. `end_at` must come after `run_at` / `start_at`.
    public init(json: JSONValue) throws(DocketError) {
        guard case .object(let object) = json else { throw .schedule(field: "schedule", "must be an object") }
        let allKeys = Self.kindKeys.values.reduce(Self.commonKeys) { $0.union($1) }
        if let unknown = object.keys.sorted().first(where: { !allKeys.contains($0) }) {
            throw .schedule(field: unknown, "unknown schedule field; expected \(allKeys.sorted().joined(separator: ", "))")
        }
        guard let kindValue = object["kind"], kindValue != .null else {
            throw .schedule(field: "kind", "is required: once, cron or interval")
        }
        guard case .string(let kindName) = kindValue, let ownKeys = Self.kindKeys[kindName] else {
            throw .schedule(field: "kind", "must be once, cron or interval, got \(kindValue.shortText)")
        }
        if let foreign = object.keys.sorted().first(where: { !Self.commonKeys.contains($0) && !ownKeys.contains($0) }) {
            throw .schedule(field: foreign, "does not apply to a \(kindName) schedule")
        }
        let fields = ScheduleFields(object)
        let kind: Kind
        let start: Date?
        switch kindName {
        case "once":
            guard let runAt = try fields.time("run_at") else { throw .schedule(field: "run_at", "is required for kind once") }
            kind = .once(runAt: runAt)
            start = runAt
        case "cron":
            guard let value = object["expression"], value != .null else {
                throw .schedule(field: "expression", "is required for kind cron, e.g. \"0 9 * * MON-FRI\"")
            }
            guard case .string(let text) = value else {
                throw .schedule(field: "expression", "must be a string, got \(value.shortText)")
            }
            let expression = try CronExpression(text)
            var zone = "UTC"
            if let value = object["timezone"], value != .null {
                guard case .string(let name) = value, Self.isIANAZone(name) else {
                    throw .schedule(field: "timezone",
                        "unknown time zone \(value.shortText): expected an IANA name such as Europe/Berlin, or UTC")
                }
                zone = name
            }
            kind = .cron(expression, timeZone: zone)
            start = nil
        default:
            guard let every = try fields.integer("every_seconds", max: Self.maxEverySeconds) else {
                throw .schedule(field: "every_seconds", "is required for kind interval")
            }
            start = try fields.time("start_at")
            kind = .interval(everySeconds: every, startAt: start)
        }
        let endAt = try fields.time("end_at")
        if let endAt, let start, endAt <= start {
            throw .schedule(field: "end_at", "\(Timestamp.format(endAt)) must come after the schedule's start "
                + Timestamp.format(start))
        }
        let maxRuns = try fields.integer("max_runs", max: Self.maxRunsLimit)
        var misfire = MisfirePolicy.runOnce
        if let value = object["misfire"], value != .null {
            guard case .string(let name) = value, let policy = MisfirePolicy(rawValue: name) else {
                throw .schedule(field: "misfire", "must be run_once or skip, got \(value.shortText)")
            }
            misfire = policy
        }
        self.init(kind: kind, endAt: endAt, maxRuns: maxRuns, misfire: misfire)
    }

    /// The areas of the IANA time zone database's `Area/Location` names (current and backward-compatible ones).
    static let zoneAreas: Set<String> = [
        "Africa", "America", "Antarctica", "Arctic", "Asia", "Atlantic", "Australia", "Europe", "Indian", "Pacific", "Etc",
        "Brazil", "Canada", "Chile", "Mexico", "US",
    ]

    /// Whether `name` is `UTC` or an IANA `Area/Location` name the system's zone data knows (`Europe/Berlin`,
    /// `America/Argentina/Salta`, `Etc/GMT+5`). Abbreviations (`PST`, `IST`) and offsets (`GMT+5`, `UTC+1`) are not
    /// names: they are ambiguous, or mean the opposite of the IANA `Etc/GMT+5`.
    static func isIANAZone(_ name: String) -> Bool {
        if name == "UTC" { return true }
        guard name.utf8.count <= 64,
              name.utf8.allSatisfy({ byte in
                  (UInt8(ascii: "A")...UInt8(ascii: "Z")).contains(byte) || (UInt8(ascii: "a")...UInt8(ascii: "z")).contains(byte)
                      || (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte)
                      || [UInt8(ascii: "/"), UInt8(ascii: "_"), UInt8(ascii: "-"), UInt8(ascii: "+")].contains(byte)
              }),
              let area = name.split(separator: "/", omittingEmptySubsequences: false).first,
              name.contains("/"), zoneAreas.contains(String(area))
        else { return false }
        return TimeZone(identifier: name)?.identifier == name
    }

    /// The wire object `init(json:)` reads; `timezone` and `misfire` are always written out.
    public var json: JSONValue {
        var object: [String: JSONValue] = ["misfire": .string(misfire.rawValue)]
        switch kind {
        case .once(let runAt):
            object["kind"] = .string("once")
            object["run_at"] = .string(Timestamp.format(runAt))
        case .cron(let expression, let zone):
            object["kind"] = .string("cron")
            object["expression"] = .string(expression.text)
            object["timezone"] = .string(zone)
        case .interval(let every, let startAt):
            object["kind"] = .string("interval")
            object["every_seconds"] = .number(Double(every))
            if let startAt { object["start_at"] = .string(Timestamp.format(startAt)) }
        }
        if let endAt { object["end_at"] = .string(Timestamp.format(endAt)) }
        if let maxRuns { object["max_runs"] = .number(Double(maxRuns)) }
        return .object(object)
    }
}

/// Typed reads of a schedule object's optional keys, each failing with a `SCHEDULE_ERROR` that names the key.
private struct ScheduleFields {
    let object: [String: JSONValue]

    init(_ object: [String: JSONValue]) { self.object = object }

    func time(_ key: String) throws(DocketError) -> Date? {
        guard let value = object[key], value != .null else { return nil }
        guard case .string(let text) = value, let date = Timestamp.parse(text) else {
            throw .schedule(field: key, "must be an RFC 3339 time such as 2026-01-31T09:00:00Z, got \(value.shortText)")
        }
        return date
    }

    func integer(_ key: String, max: Int) throws(DocketError) -> Int? {
        guard let value = object[key], value != .null else { return nil }
        guard case .number(let number) = value, number.rounded() == number, number >= 1, number <= Double(max) else {
            throw .schedule(field: key, "must be a whole number from 1 to \(max), got \(value.shortText)")
        }
        return Int(number)
    }
}

extension JSONValue {
    /// A short rendering for error messages.
    fileprivate var shortText: String {
        switch self {
        case .null: "null"
        case .bool(let value): String(value)
        case .number(let value): value.rounded() == value && abs(value) < 1e15 ? String(Int(value)) : String(value)
        case .string(let value): "\"\(value.count > 60 ? String(value.prefix(60)) + "…" : value)\""
        case .array: "an array"
        case .object: "an object"
        }
    }
}
