import Foundation

/// Where the machine's CPU went during a scenario, from `/proc` (Linux): docketd's own process, the bench's, and the
/// rest (PostgreSQL's backends, on a machine running nothing else), in CPU milliseconds per request.
final class CPUShare: @unchecked Sendable {  // used by one scenario at a time, never concurrently
    private struct Reading {
        var busy: Double
        var total: Double
        var docketd: Double
        var bench: Double
    }

    let docketd: pid_t?
    private var start: Reading?
    private var end: Reading?

    init(docketd: pid_t?) {
        self.docketd = docketd
    }

    func begin() {
        start = Self.read(docketd)
        end = nil
    }

    func finish() { end = Self.read(docketd) }

    /// CPU milliseconds per request of docketd, the bench and everything else between `begin` and `finish`, and the
    /// share of the machine busy.
    func perRequest(_ requests: Int) -> (docketd: Double, bench: Double, rest: Double, busy: Double)? {
        guard let start, let end else { return nil }
        let per = Double(max(requests, 1))
        let busy = end.busy - start.busy, docketd = end.docketd - start.docketd, bench = end.bench - start.bench
        return (docketd / per, bench / per, (busy - docketd - bench) / per, busy / max(end.total - start.total, 1))
    }

    /// CPU milliseconds so far: the machine's busy and total time over all cores, and the two processes'.
    private static func read(_ docketd: pid_t?) -> Reading? {
        let tick = 1000 / Double(sysconf(Int32(_SC_CLK_TCK)))
        guard let stat = try? String(contentsOfFile: "/proc/stat", encoding: .utf8),
              let line = stat.split(separator: "\n").first else { return nil }
        // cpu user nice system idle iowait irq softirq steal …
        let fields = line.split(separator: " ").dropFirst().prefix(8).compactMap { Double($0) }
        guard fields.count == 8 else { return nil }
        let idle = fields[3] + fields[4]
        let total = fields.reduce(0, +)
        return Reading(busy: (total - idle) * tick, total: total * tick, docketd: docketd.map { process($0) * tick } ?? 0,
                       bench: process(getpid()) * tick)
    }

    /// A process's user and system time, in clock ticks.
    private static func process(_ pid: pid_t) -> Double {
        guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
              let close = stat.lastIndex(of: ")") else { return 0 }
        // After the command's closing parenthesis: state is field 3, utime 14, stime 15.
        let fields = stat[stat.index(after: close)...].split(separator: " ")
        guard fields.count > 12, let user = Double(fields[11]), let system = Double(fields[12]) else { return 0 }
        return user + system
    }
}
