import DocketCore
import Prometheus

/// The metrics of `/metrics`, in one Prometheus registry: the protocol server counts requests, latencies, errors and
/// connections here; the daemon adds the gauges of its other parts (`DaemonMetrics`), sampled at each scrape.
public final class ServerMetrics: Sendable {
    /// Upper bounds of the latency buckets.
    static let buckets: [Duration] = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5]
        .map { .microseconds(Int64($0 * 1_000_000)) }

    public let registry = PrometheusCollectorRegistry()
    let connections: Gauge
    let connectionsTotal: Counter

    public init() {
        connections = registry.makeGauge(descriptor: .docket("connections", help: "Open client connections."))
        connectionsTotal = registry.makeCounter(descriptor: .docket("connections", unit: "total", help: "Client connections accepted."))
    }

    func record(op: String, duration: Duration, error: DocketError.Code?) {
        registry.makeCounter(descriptor: .docket("requests", unit: "total", help: "Requests served, by operation."),
                             labels: [("op", op)]).increment()
        registry.makeDurationHistogram(descriptor: .docket("request_duration", unit: "seconds", help: "Time to serve a request, by operation."),
                                       labels: [("op", op)], buckets: Self.buckets).record(duration)
        if let error { countError(error) }
    }

    func countError(_ code: DocketError.Code) {
        registry.makeCounter(descriptor: .docket("errors", unit: "total", help: "Errors answered, by code."),
                             labels: [("code", code.rawValue)]).increment()
    }

    func connectionOpened() {
        connections.increment()
        connectionsTotal.increment()
    }

    func connectionClosed() { connections.decrement() }

    /// The Prometheus text exposition; `sample` first brings the sampled gauges up to date.
    public func render(sampling sample: () async -> Void = {}) async -> String {
        await sample()
        return registry.emitToString()
    }
}

extension MetricNameDescriptor {
    /// `docket_<name>[_<unit>]` with its help text.
    public static func docket(_ name: String, unit: String = "", help: String) -> MetricNameDescriptor {
        MetricNameDescriptor(namespace: "docket", metricName: name, unitName: unit, helpText: help)
    }
}
