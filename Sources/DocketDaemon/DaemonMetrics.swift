import DocketBus
import DocketCluster
import DocketPostgres
import DocketServer
import DocketServices
import Foundation
import Prometheus
import Synchronization

/// The gauges and counters of the daemon's parts besides the protocol server's (docs/configuration.md, "Health and
/// metrics"), brought up to date from each part at every scrape.
final class DaemonMetrics: Sendable {
    let registry: PrometheusCollectorRegistry
    let pool: DatabasePool
    let server: ProtocolServer
    let elector: LeaderElector
    let maintainer: Maintainer
    let bus: EventWiring
    let jobs: JobService
    /// What each mirrored counter was last set to: Prometheus counters only go up, by the difference.
    private let mirrored = Mutex<[String: Double]>([:])

    init(registry: PrometheusCollectorRegistry, pool: DatabasePool, server: ProtocolServer, elector: LeaderElector,
         maintainer: Maintainer, bus: EventWiring, jobs: JobService) {
        self.jobs = jobs
        self.registry = registry
        self.pool = pool
        self.server = server
        self.elector = elector
        self.maintainer = maintainer
        self.bus = bus
    }

    func sample() async {
        await sampleQueues()
        let usage = pool.usage
        gauge("db_pool_in_use", "Requests holding a database connection (at most the pool size).", usage.current)
        gauge("db_pool_in_use_peak", "Most requests holding a database connection at once since start.", usage.peak)
        gauge("db_pool_waiting", "Requests waiting for a database connection.", usage.waiting)
        gauge("db_pool_waiting_peak", "Most requests waiting for a database connection at once since start.", usage.peakWaiting)
        gauge("db_pool_size", "Database connections at most.", pool.configuration.size)
        counter("db_pool_resets", "Times the pool was replaced after an outage.", pool.resets)
        let (unauthenticated, evicted) = server.unauthenticatedConnections
        gauge("connections_unauthenticated", "Client connections that have not authenticated yet.", unauthenticated)
        counter("connections_evicted", "Unauthenticated connections closed to make room for new ones.", evicted)
        let epoch = elector.currentRole.epoch
        gauge("leader", "Whether this instance leads the cluster (runs the sweeps).", epoch == nil ? 0 : 1)
        gauge("leader_epoch", "The term this instance leads in (0 while it follows).", Int(epoch ?? 0))
        for (kind, totals) in maintainer.statistics {
            counter("sweep_passes", "Sweep passes, by sweep.", totals.passes, labels: [("sweep", kind)])
            counter("sweep_failures", "Sweep passes that failed, by sweep.", totals.failures, labels: [("sweep", kind)])
            counter("sweep_changed", "Rows sweeps changed, by sweep.", totals.changed, labels: [("sweep", kind)])
            counter("sweep_duration_seconds", "Time sweeps spent in their passes, by sweep.", totals.seconds, labels: [("sweep", kind)], unit: "")
        }
        guard bus.eventBus != nil else { return }
        let statistics = bus.listener.statistics
        gauge("bus_connected", "Whether the event listener holds its database connection.", statistics.connected ? 1 : 0)
        gauge("bus_position", "Last event seq published to this instance's subscribers.", Int(bus.hub.position ?? 0))
        gauge("bus_subscribers", "Subscriptions on this instance.", bus.hub.subscriberCount)
        counter("bus_events", "Events read by the listener.", statistics.delivered)
        counter("bus_catch_ups", "Catch-up passes (wake-ups, polls, reconnects).", statistics.catchUps)
        counter("bus_horizon_reads", "Catch-ups that read the horizon (pg_locks) to settle a gap in the seqs.", statistics.horizonReads)
        counter("bus_reconnects", "Times the listener connection was replaced.", statistics.reconnects)
        counter("bus_dropped_subscribers", "Subscribers dropped for falling behind.", statistics.droppedSubscribers)
        counter("bus_notifications", "Wake-up NOTIFYs sent by this instance.", bus.notifier.notificationsSent)
    }

    private func gauge(_ name: String, _ help: String, _ value: Int, labels: [(String, String)] = []) {
        registry.makeGauge(descriptor: .docket(name, help: help), labels: labels).set(Int64(value))
    }

    /// Per queue: its available and running jobs and the age of its oldest available one (read within 800 ms, or
    /// left as last sampled), and the starts its limits refused on this instance.
    private func sampleQueues() async {
        let paths = jobs.claimPaths
        for (path, count) in [("statement", paths.plain.load(ordering: .relaxed)), ("transaction", paths.transactional.load(ordering: .relaxed))] {
            counter("claims", "Claims on this instance, by path: one statement (no gate applied) or a transaction.", count,
                    labels: [("path", path)])
        }
        for (key, refused) in jobs.refusals.snapshot {
            counter("queue_starts_refused", "Starts a queue's limit refused on this instance, by tenant, queue and limit.", refused,
                    labels: [("tenant", key.tenant), ("queue", key.queue), ("limit", key.limit)])
        }
        let jobs = self.jobs
        guard let queues = try? await Deadline.race(.milliseconds(800), { try await jobs.queueOverview() }) else { return }
        let now = Date()
        for queue in queues {
            let labels = [("tenant", queue.tenantId), ("queue", queue.name)]
            gauge("queue_available", "Jobs a claim could take now, by tenant and queue.", queue.counts.available, labels: labels)
            gauge("queue_running", "Running jobs, by tenant and queue.", queue.counts.running, labels: labels)
            let age = queue.counts.oldestAvailableSince.map { max(0, Int(now.timeIntervalSince($0))) } ?? 0
            gauge("queue_oldest_available_seconds", "Age of the oldest available job, by tenant and queue.", age, labels: labels)
        }
    }

    private func counter(_ name: String, _ help: String, _ value: some BinaryInteger, labels: [(String, String)] = []) {
        counter(name, help, Double(value), labels: labels, unit: "total")
    }

    /// Raises `docket_<name>_<unit>` to `value` (it only ever grows).
    private func counter(_ name: String, _ help: String, _ value: Double, labels: [(String, String)] = [], unit: String) {
        let key = name + labels.map { "|\($0.0)=\($0.1)" }.joined()
        let delta = mirrored.withLock { seen -> Double in
            defer { seen[key] = max(seen[key] ?? 0, value) }
            return value - (seen[key] ?? 0)
        }
        guard delta > 0 else { return }
        registry.makeCounter(descriptor: .docket(name, unit: unit, help: help), labels: labels).increment(by: delta)
    }
}
