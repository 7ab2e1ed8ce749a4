import Foundation

/// Converts between instants and wall-clock seconds ("local seconds": seconds since 1970-01-01T00:00 on the wall
/// clock) in one time zone.
struct WallClock {
    let timeZone: TimeZone

    /// The wall-clock second of `instant` (rounded down to a whole second).
    func localSeconds(of instant: Date) -> Int64 {
        let second = Int64(instant.timeIntervalSince1970.rounded(.down))
        return second + offset(at: second)
    }

    /// The instant a wall-clock second stands for: the first occurrence of a repeated one, and for a skipped one the
    /// instant the clock jumps over it (the next valid instant).
    func instant(localSeconds local: Int64) -> Date {
        let before = offset(at: local - 86_400)
        let after = offset(at: local + 86_400)
        var offsets: Set<Int64> = [before, after]
        offsets.formUnion([offset(at: local - before), offset(at: local - after)])
        let valid = offsets.filter { offset(at: local - $0) == $0 }.map { local - $0 }
        if let first = valid.min() { return Self.date(first) }
        // Skipped: the earliest instant whose wall-clock time is at or past `local`.
        var low = local - (offsets.max() ?? 0)  // its wall-clock time is before `local`
        var high = local - (offsets.min() ?? 0)  // its wall-clock time is at or past `local`
        while high - low > 1 {
            let middle = low + (high - low) / 2
            if middle + offset(at: middle) >= local { high = middle } else { low = middle }
        }
        return Self.date(high)
    }

    private func offset(at second: Int64) -> Int64 {
        Int64(timeZone.secondsFromGMT(for: Self.date(second)))
    }

    private static func date(_ second: Int64) -> Date { Date(timeIntervalSince1970: Double(second)) }
}
