import DocketCore
import Synchronization

/// Request counts, latency histograms per op, errors by code and open connections, rendered as Prometheus text.
public final class ServerMetrics: Sendable {
    /// Upper bounds of the latency buckets, in seconds.
    static let buckets: [Double] = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5]

    private struct Histogram {
        var counts = [Int](repeating: 0, count: ServerMetrics.buckets.count)
        var total = 0
        var sum = 0.0
    }

    private struct State {
        var requests: [String: Int] = [:]
        var latency: [String: Histogram] = [:]
        var errors: [String: Int] = [:]
        var connections = 0
        var connectionsTotal = 0
    }

    private let state = Mutex(State())

    public init() {}

    func record(op: String, duration: Duration, error: DocketError.Code?) {
        let seconds = duration.inSeconds
        state.withLock { state in
            state.requests[op, default: 0] += 1
            var histogram = state.latency[op] ?? Histogram()
            if let bucket = Self.buckets.firstIndex(where: { seconds <= $0 }) { histogram.counts[bucket] += 1 }
            histogram.total += 1
            histogram.sum += seconds
            state.latency[op] = histogram
            if let error { state.errors[error.rawValue, default: 0] += 1 }
        }
    }

    func countError(_ code: DocketError.Code) {
        state.withLock { $0.errors[code.rawValue, default: 0] += 1 }
    }

    func connectionOpened() { state.withLock { $0.connections += 1; $0.connectionsTotal += 1 } }
    func connectionClosed() { state.withLock { $0.connections -= 1 } }

    /// The Prometheus text exposition of everything counted, plus `extra` lines from other parts.
    public func render(extra: [String] = []) -> String {
        let snapshot = state.withLock { $0 }
        var lines: [String] = [
            "# HELP docket_requests_total Requests served, by operation.",
            "# TYPE docket_requests_total counter",
        ]
        for (op, count) in snapshot.requests.sorted(by: { $0.key < $1.key }) {
            lines.append("docket_requests_total{op=\"\(op)\"} \(count)")
        }
        lines += ["# HELP docket_request_duration_seconds Time to serve a request, by operation.",
                  "# TYPE docket_request_duration_seconds histogram"]
        for (op, histogram) in snapshot.latency.sorted(by: { $0.key < $1.key }) {
            var cumulative = 0
            for (index, bound) in Self.buckets.enumerated() {
                cumulative += histogram.counts[index]
                lines.append("docket_request_duration_seconds_bucket{op=\"\(op)\",le=\"\(bound)\"} \(cumulative)")
            }
            lines.append("docket_request_duration_seconds_bucket{op=\"\(op)\",le=\"+Inf\"} \(histogram.total)")
            lines.append("docket_request_duration_seconds_sum{op=\"\(op)\"} \(histogram.sum)")
            lines.append("docket_request_duration_seconds_count{op=\"\(op)\"} \(histogram.total)")
        }
        lines += ["# HELP docket_errors_total Errors answered, by code.", "# TYPE docket_errors_total counter"]
        for (code, count) in snapshot.errors.sorted(by: { $0.key < $1.key }) {
            lines.append("docket_errors_total{code=\"\(code)\"} \(count)")
        }
        lines += ["# HELP docket_connections Open client connections.", "# TYPE docket_connections gauge",
                  "docket_connections \(snapshot.connections)",
                  "# HELP docket_connections_total Client connections accepted.", "# TYPE docket_connections_total counter",
                  "docket_connections_total \(snapshot.connectionsTotal)"]
        return (lines + extra).joined(separator: "\n") + "\n"
    }
}
