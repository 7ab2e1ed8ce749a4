/// One field of a cron expression: the set of values it matches, as bits.
struct CronField: Sendable, Hashable {
    /// Bit `n` is set when the field matches value `n`.
    let bits: UInt64

    func contains(_ value: Int) -> Bool {
        (0..<64).contains(value) && bits & (1 << UInt64(value)) != 0
    }

    /// The smallest matched value that is `value` or more, or nil.
    func next(from value: Int) -> Int? {
        guard value < 64 else { return nil }
        let rest = bits >> UInt64(max(value, 0))
        return rest == 0 ? nil : max(value, 0) + rest.trailingZeroBitCount
    }
}

extension CronField {
    /// What one of the five positions accepts: its wire name, its numbers, and the names that stand for numbers.
    struct Kind: Sendable {
        let name: String
        /// The numbers a value may be written as.
        let accepted: ClosedRange<Int>
        /// What `*` stands for (day-of-week accepts 7 for Sunday but `*` means 0–6).
        let all: ClosedRange<Int>
        /// Three-letter names; `names[i]` stands for `all.lowerBound + i`.
        let names: [String]
        let nameKind: String

        static let minute = Kind(name: "minute", accepted: 0...59, all: 0...59, names: [], nameKind: "")
        static let hour = Kind(name: "hour", accepted: 0...23, all: 0...23, names: [], nameKind: "")
        static let dayOfMonth = Kind(name: "day_of_month", accepted: 1...31, all: 1...31, names: [], nameKind: "")
        static let month = Kind(
            name: "month", accepted: 1...12, all: 1...12,
            names: ["JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC"],
            nameKind: "month")
        static let dayOfWeek = Kind(
            name: "day_of_week", accepted: 0...7, all: 0...6,
            names: ["SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT"], nameKind: "day")
    }

    /// Parses a comma-separated list of `*`, `N`, `A-B`, each optionally stepped with `/S`; `N/S` means `N-max/S`.
    ///
    /// Every problem is a `SCHEDULE_ERROR` naming `kind.name`. Day-of-week 7 folds into 0 (Sunday).
    init(parsing text: Substring, as kind: Kind) throws(DocketError) {
        var bits: UInt64 = 0
        for item in text.split(separator: ",", omittingEmptySubsequences: false) {
            guard !item.isEmpty else { throw .schedule(field: kind.name, "empty item in the list \"\(text)\"") }
            let parts = item.split(separator: "/", omittingEmptySubsequences: false)
            guard parts.count <= 2 else { throw .schedule(field: kind.name, "more than one \"/\" in \"\(item)\"") }
            let step = parts.count == 2 ? try Self.step(parts[1], item: item, kind: kind) : 1
            let range = try Self.range(parts[0], stepped: parts.count == 2, kind: kind)
            for value in stride(from: range.lowerBound, through: range.upperBound, by: step) {
                bits |= 1 << UInt64(kind.name == Kind.dayOfWeek.name ? value % 7 : value)
            }
        }
        self.bits = bits
    }

    private static func step(_ text: Substring, item: Substring, kind: Kind) throws(DocketError) -> Int {
        let largest = kind.all.count
        guard !text.isEmpty, text.isCronDigits, let step = Int(text), (1...largest).contains(step) else {
            throw .schedule(field: kind.name, "bad step in \"\(item)\": the step must be a whole number from 1 to \(largest)")
        }
        return step
    }

    private static func range(_ text: Substring, stepped: Bool, kind: Kind) throws(DocketError) -> ClosedRange<Int> {
        if text == "*" { return kind.all }
        let bounds = text.split(separator: "-", omittingEmptySubsequences: false)
        guard bounds.count <= 2, !bounds.contains(where: \.isEmpty) else {
            throw .schedule(field: kind.name, "malformed range \"\(text)\": expected a value or start-end")
        }
        let low = try value(bounds[0], kind: kind)
        guard bounds.count == 2 else { return stepped ? low...kind.accepted.upperBound : low...low }
        let high = try value(bounds[1], kind: kind)
        guard low <= high else {
            throw .schedule(field: kind.name, "reversed range \"\(text)\": \(low) comes after \(high)")
        }
        return low...high
    }

    private static func value(_ text: Substring, kind: Kind) throws(DocketError) -> Int {
        if text.isCronDigits {
            guard let number = Int(text), kind.accepted.contains(number) else {
                let sunday = kind.name == Kind.dayOfWeek.name ? "; 0 and 7 are Sunday" : ""
                throw .schedule(field: kind.name,
                    "\(text) is out of range: allowed \(kind.accepted.lowerBound)-\(kind.accepted.upperBound)\(sunday)")
            }
            return number
        }
        guard !kind.names.isEmpty else { throw .schedule(field: kind.name, "\"\(text)\" is not a number") }
        guard let index = kind.names.firstIndex(of: text.uppercased()) else {
            throw .schedule(field: kind.name,
                "unknown \(kind.nameKind) name \"\(text)\": expected a number or one of \(kind.names.joined(separator: " "))")
        }
        return kind.all.lowerBound + index
    }
}

extension Substring {
    /// Whether every character is one of 0–9 (true for an empty substring).
    fileprivate var isCronDigits: Bool { utf8.allSatisfy { (UInt8(ascii: "0")...UInt8(ascii: "9")).contains($0) } }
}
