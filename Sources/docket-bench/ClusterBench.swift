import DocketClient
import DocketCore
import DocketPostgres
import Foundation
import Logging
import PostgresNIO
import Synchronization

/// The cluster scenarios of docket-bench (docs/performance.md): three docketd on one embedded PostgreSQL.
///
/// - failover: kill -9 of the leader → a new leader with a higher epoch (several rounds);
/// - freeze: SIGSTOP of the leader → a new leader; after SIGCONT, how long until the old one reports follower;
/// - slots: 20 one-second interval schedules with a worker completing every run → fire lag (run start − slot);
/// - propagation: 16 connections create through instance B while a subscriber on A receives job.created;
/// - bus: create throughput of one docketd with the bus on and off (alternating runs), the bus's cost;
/// - claims: a fourth docketd joins; producers create 50,000 jobs while 4 × 8 claim loops take and complete them, and
///   the leader is killed (-9) midway: every job answered `ok` must exist and be completed exactly once.
struct ClusterBench {
    let binary: String
    let seconds: Double
    let rounds: Int
    let asyncCommit: Bool
    let logger: Logger

    struct Instance {
        var process: RunningCommand
        var port: Int
        var id: String
    }

    final class Cluster: @unchecked Sendable {
        // Touched from the bench's main task only.
        let folder: String
        let binary: String
        var url = ""
        var token = ""
        var instances: [Instance] = []

        init(folder: String, binary: String) {
            self.folder = folder
            self.binary = binary
        }

        func spawn(_ flags: [String] = []) async throws -> Instance {
            var arguments = ["--listen", "127.0.0.1:0", "--http", "127.0.0.1:0", "--data-dir", folder, "--log-level", "error"]
            if !url.isEmpty { arguments += ["--database-url", url] }
            let process = try Command(executable: binary, arguments: arguments + flags).start()
            let line = try await process.waitForLine { $0.hasPrefix("docketd listening on ") }
            let words = line.split(separator: " ")
            let port = Int(words[3].split(separator: ":").last ?? "") ?? 0
            if url.isEmpty {
                url = words.last.map { String($0).trimmingCharacters(in: CharacterSet(charactersIn: ")")) } ?? ""
            }
            if token.isEmpty {
                token = try String(contentsOfFile: folder + "/admin.key", encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines)
            }
            let client = try await DocketClient.connect(host: "127.0.0.1", port: port, token: token)
            let hello = try await client.call("hello")
            await client.close()
            guard case .string(let id)? = hello["instance_id"] else { throw DocketError(.internal, "hello without instance_id") }
            return Instance(process: process, port: port, id: id)
        }

        func client(_ instance: Instance) async throws -> DocketClient {
            try await DocketClient.connect(host: "127.0.0.1", port: instance.port, token: token)
        }

        /// The leader as instance `via` reports it.
        func leader(via instance: Instance) async -> (id: String, epoch: Int)? {
            guard let client = try? await client(instance) else { return nil }
            defer { Task { await client.close() } }
            guard let status = try? await client.call("cluster.status"),
                  case .string(let id)? = status["leader"]?["instance_id"], case .number(let epoch)? = status["leader"]?["epoch"]
            else { return nil }
            return (id, Int(epoch))
        }

        func stopAll() async {
            for instance in instances { instance.process.signal(SIGTERM) }
            for instance in instances {
                if (try? await instance.process.wait(timeout: .seconds(20))) == nil {
                    instance.process.signal(SIGKILL)
                    _ = try? await instance.process.wait()
                }
            }
            instances = []
        }
    }

    func run(_ scenarios: [String]) async throws {
        let folder = "/tmp/docket-bench-cluster-\(getpid())"
        let cluster = Cluster(folder: folder, binary: binary)
        var failure: (any Error)?
        do {
            for _ in 0..<3 { cluster.instances.append(try await cluster.spawn()) }
            print("docket-bench cluster: 3 docketd on one embedded PostgreSQL (\(cluster.url))")
            if asyncCommit {
                try await DatabaseEndpoint(url: cluster.url).withConnection(logger: logger) { connection in
                    try await connection.query("ALTER SYSTEM SET synchronous_commit = off", logger: logger)
                    try await connection.query("SELECT pg_reload_conf()", logger: logger)
                }
                print("            (diagnostic: synchronous_commit off)")
            }
            for scenario in scenarios {
                switch scenario {
                case "failover": try await failover(cluster)
                case "freeze": try await freeze(cluster)
                case "slots": try await slots(cluster)
                case "propagation": try await propagation(cluster)
                case "bus": try await busCost(cluster)
                case "soak": try await soak(cluster)
                case "claims": try await claims(cluster)
                default: print("\(scenario): unknown cluster scenario (failover, freeze, slots, propagation, bus, soak, claims)")
                }
            }
        } catch {
            failure = error
        }
        await cluster.stopAll()
        _ = try? await EmbeddedPostgres(dataDirectory: folder).stop()
        EmbeddedPostgres.removeFilesQuietly(folder)
        if let failure { throw failure }
    }

    /// Waits until an instance other than `old` leads with an epoch above `epoch`; the time it took, or nil.
    func newLeader(_ cluster: Cluster, after old: String, epoch: Int, via: Instance, since start: ContinuousClock.Instant,
                   timeout: Duration = .seconds(30)) async -> Duration? {
        let clock = ContinuousClock()
        while clock.now - start < timeout {
            if let now = await cluster.leader(via: via), now.id != old, now.epoch > epoch { return clock.now - start }
            try? await Task.sleep(for: .milliseconds(10))
        }
        return nil
    }

    func currentLeader(_ cluster: Cluster) async throws -> (index: Int, id: String, epoch: Int) {
        let clock = ContinuousClock()
        let start = clock.now
        while clock.now - start < .seconds(30) {
            if let found = await cluster.leader(via: cluster.instances[0]),
               let index = cluster.instances.firstIndex(where: { $0.id == found.id }) {
                return (index, found.id, found.epoch)
            }
            try await Task.sleep(for: .milliseconds(50))
        }
        throw DocketError(.unavailable, "no leader within 30 s")
    }

    func failover(_ cluster: Cluster) async throws {
        var times: [Double] = []
        for round in 1...rounds {
            let (index, id, epoch) = try await currentLeader(cluster)
            let witness = cluster.instances[(index + 1) % cluster.instances.count]
            let clock = ContinuousClock()
            let start = clock.now
            cluster.instances[index].process.signal(SIGKILL)
            guard let took = await newLeader(cluster, after: id, epoch: epoch, via: witness, since: start) else {
                throw DocketError(.unavailable, "no new leader within 30 s of kill -9 (round \(round))")
            }
            times.append(ms(took))
            _ = try? await cluster.instances[index].process.wait()
            cluster.instances[index] = try await cluster.spawn()
            try await Task.sleep(for: .seconds(1))
        }
        print("failover    kill -9 of the leader → new leader: " + times.map { String(format: "%.0f ms", $0) }.joined(separator: ", ")
            + String(format: "  (median %.0f ms, target < 2000 ms)", percentile(times, 50)))
    }

    func freeze(_ cluster: Cluster) async throws {
        let (index, id, epoch) = try await currentLeader(cluster)
        let frozen = cluster.instances[index]
        let witness = cluster.instances[(index + 1) % cluster.instances.count]
        let clock = ContinuousClock()
        let start = clock.now
        frozen.process.signal(SIGSTOP)
        guard let took = await newLeader(cluster, after: id, epoch: epoch, via: witness, since: start) else {
            frozen.process.signal(SIGCONT)
            throw DocketError(.unavailable, "no new leader within 30 s of SIGSTOP")
        }
        frozen.process.signal(SIGCONT)
        let woke = clock.now
        var stepDown: Duration?
        while clock.now - woke < .seconds(15) {
            if let client = try? await cluster.client(frozen) {
                let status = try? await client.call("cluster.status")
                await client.close()
                if status?["this_instance"]?["role"] == .string("follower") {
                    stepDown = clock.now - woke
                    break
                }
            }
            try await Task.sleep(for: .milliseconds(20))
        }
        print(String(format: "freeze      SIGSTOP of the leader → new leader: %.0f ms (target < lease TTL 10 s + 2 s); ", ms(took))
            + "after SIGCONT it reports follower within " + (stepDown.map { String(format: "%.0f ms", ms($0)) } ?? "— (did not within 15 s)"))
    }

    func slots(_ cluster: Cluster) async throws {
        let tenant: JSONValue = .string("bench-slots")
        let setup = try await cluster.client(cluster.instances[0])
        let start = Date().addingTimeInterval(1)
        for index in 0..<20 {
            try await setup.call("job.create", ["name": .string("slot-\(index)"), "tenant_id": tenant, "schedule": .object([
                "kind": .string("interval"), "every_seconds": .number(1), "start_at": .string(Timestamp.format(start)),
                "misfire": .string("skip")])])
        }
        await setup.close()
        let duration = max(10, seconds * 2)
        let worker = try await cluster.client(cluster.instances[1])
        let clock = ContinuousClock()
        let deadline = clock.now + .milliseconds(Int(duration * 1000))
        while clock.now < deadline {
            let claimed = (try? await worker.call("job.claim", ["tenant_id": tenant, "limit": .number(20)])) ?? .array([])
            if case .array(let jobs) = claimed {
                for job in jobs { _ = try? await worker.call("job.complete", ["job_id": job["id"] ?? .null, "tenant_id": tenant]) }
            }
            try await Task.sleep(for: .milliseconds(20))
        }
        await worker.close()
        let lags = try await DatabaseEndpoint(url: cluster.url).withConnection(logger: logger) { connection in
            var lags: [Double] = []
            let rows = try await connection.query("""
                SELECT (extract(epoch FROM started_at - scheduled_for) * 1000)::float8 FROM docket.job_runs
                WHERE tenant_id = 'bench-slots'
                """, logger: logger)
            for try await lag in rows.decode(Double.self) { lags.append(lag) }
            try await connection.query("DELETE FROM docket.jobs WHERE tenant_id = 'bench-slots'", logger: logger)
            return lags
        }
        print(String(format: "slots       %d runs of 20 one-second schedules over %.0f s: fire lag p50 %.1f ms, p99 %.1f ms, max %.1f ms (target p99 < 50 ms)",
                     lags.count, duration, percentile(lags, 50), percentile(lags, 99), lags.max() ?? 0))
    }

    func propagation(_ cluster: Cluster) async throws {
        let tenant: JSONValue = .string("bench-prop")
        let subscriber = try RawSubscriber(port: cluster.instances[0].port, token: cluster.token, tenant: "bench-prop",
                                           topics: ["job.created"])
        subscriber.start()
        try await Task.sleep(for: .milliseconds(300))
        let answered = Mutex<[String: Date]>([:])
        var writers: [DocketClient] = []
        for _ in 0..<16 { writers.append(try await cluster.client(cluster.instances[1])) }
        let pinned = writers
        // A second of the same load first, not counted: connections, plans and caches warm up on every instance.
        _ = await measure("warm-up", workers: 16, duration: .seconds(1)) { i in
            _ = try await pinned[i % 16].call("job.create", ["name": .string("warm-\(i)"), "tenant_id": tenant])
        }
        let load = await measure("propagation", workers: 16, duration: .milliseconds(Int(seconds * 1000))) { i in
            let job = try await pinned[i % 16].call("job.create", ["name": .string("p-\(i)"), "tenant_id": tenant])
            if case .string(let id)? = job["id"] { answered.withLock { $0[id] = Date() } }
        }
        try await Task.sleep(for: .seconds(2))
        for writer in writers { await writer.close() }
        let got = subscriber.stop()
        let sent = answered.withLock { $0 }
        var sinceOccurred: [Double] = [], sinceAnswered: [Double] = []
        for (id, arrival) in got {
            sinceOccurred.append(arrival.arrived.timeIntervalSince(arrival.occurred) * 1000)
            if let answer = sent[id] { sinceAnswered.append(max(0, arrival.arrived.timeIntervalSince(answer) * 1000)) }
        }
        let missing = sent.keys.filter { got[$0] == nil }.count
        if ProcessInfo.processInfo.environment["DOCKET_BENCH_DIAG"] != nil {
            let rows = got.compactMap { (id, a) -> (Date, Date, Double)? in
                guard let answer = sent[id] else { return nil }
                return (a.arrived, answer, a.arrived.timeIntervalSince(answer) * 1000)
            }.sorted { $0.2 > $1.2 }.prefix(40)
            let t0 = got.values.map(\.arrived).min() ?? Date()
            for row in rows {
                print(String(format: "  diag: arrived +%.3f s, answered +%.3f s, latency %.1f ms", row.0.timeIntervalSince(t0), row.1.timeIntervalSince(t0), row.2))
            }
        }
        print(String(format: "propagation 16 connections creating through B at %.0f/s, subscriber on A (its own reading thread): %d events, %d missing", load.opsPerSecond, got.count, missing))
        print(String(format: "            from the event's transaction start: p50 %.1f ms, p99 %.1f ms; after the create answered: p50 %.1f ms, p99 %.1f ms (target p99 < 20 ms)",
                     percentile(sinceOccurred, 50), percentile(sinceOccurred, 99), percentile(sinceAnswered, 50), percentile(sinceAnswered, 99)))
    }

    /// Create throughput of a single docketd with the bus off, on, and on with a subscriber taking every event
    /// (rounds of the three, interleaved), on the cluster's database.
    func busCost(_ cluster: Cluster) async throws {
        await cluster.stopAll()
        enum Mode: String, CaseIterable { case off, on, subscribed = "on + subscriber" }
        var results: [Mode: [Double]] = [:]
        for round in 0..<max(2, rounds - 1) {
            // Alternate the order, so the database growing over the runs does not favour one mode.
            for mode in round % 2 == 0 ? Mode.allCases : Mode.allCases.reversed() {
                let instance = try await cluster.spawn(["--bus", mode == .off ? "off" : "on", "--pool-size", "32"])
                let tenant: JSONValue = .string("bench-bus")
                var drain: Task<Void, Never>?
                var subscriber: DocketClient?
                if mode == .subscribed {
                    let client = try await cluster.client(instance)
                    try await client.call("subscribe", ["topics": .array([.string("job.created")]), "tenant_id": tenant])
                    drain = Task { for await _ in client.pushes {} }
                    subscriber = client
                }
                var writers: [DocketClient] = []
                for _ in 0..<16 { writers.append(try await cluster.client(instance)) }
                let pinned = writers
                let result = await measure("bus", workers: 16, duration: .milliseconds(Int(seconds * 1000))) { i in
                    _ = try await pinned[i % 16].call("job.create", ["name": .string("b-\(i)"), "tenant_id": tenant])
                }
                for writer in writers { await writer.close() }
                await subscriber?.close()
                drain?.cancel()
                results[mode, default: []].append(result.opsPerSecond)
                instance.process.signal(SIGTERM)
                _ = try? await instance.process.wait(timeout: .seconds(20))
            }
        }
        func mean(_ mode: Mode) -> Double { (results[mode] ?? []).reduce(0, +) / Double(max(1, results[mode]?.count ?? 0)) }
        print("bus         create, 16 connections, one docketd, ops/s: " + Mode.allCases.map { mode in
            "\(mode.rawValue) " + (results[mode] ?? []).map { String(format: "%.0f", $0) }.joined(separator: "/")
        }.joined(separator: "; "))
        print(String(format: "            the bus costs %.1f %% of create throughput (target < 10 %%); with a subscriber taking every event, %.1f %%",
                     (1 - mean(.on) / max(mean(.off), 1)) * 100, (1 - mean(.subscribed) / max(mean(.off), 1)) * 100))
    }

    /// Memory under a steady mixed load for `seconds`: 8 connections run create → start → complete through instance 0
    /// while 4 subscribers on it take every job event (one of them reconnects every 10 s, so subscriptions come and go).
    /// Prints instance 0's resident memory every 15 s.
    func soak(_ cluster: Cluster) async throws {
        let instance = cluster.instances[0]
        let tenant: JSONValue = .string("bench-soak")
        var subscribers: [DocketClient] = []
        var drains: [Task<Void, Never>] = []
        for _ in 0..<3 {
            let client = try await cluster.client(instance)
            try await client.call("subscribe", ["topics": .array([.string("job.*")]), "tenant_id": tenant])
            drains.append(Task { for await _ in client.pushes {} })
            subscribers.append(client)
        }
        let churn = Task {
            while !Task.isCancelled {
                guard let client = try? await cluster.client(instance) else { return }
                _ = try? await client.call("subscribe", ["topics": .array([.string("job.*")]), "tenant_id": tenant])
                let drain = Task { for await _ in client.pushes {} }
                try? await Task.sleep(for: .seconds(10))
                await client.close()
                drain.cancel()
            }
        }
        var writers: [DocketClient] = []
        for _ in 0..<8 { writers.append(try await cluster.client(instance)) }
        let pinned = writers
        let clock = ContinuousClock()
        let start = clock.now
        let total = Duration.milliseconds(Int(seconds * 1000))
        var samples: [String] = []
        var operations = 0
        while clock.now - start < total {
            let slice = min(.seconds(15), total - (clock.now - start))
            let result = await measure("soak", workers: 8, duration: slice) { i in
                let job = try await pinned[i % 8].call("job.create", ["name": .string("s-\(i)"), "tenant_id": tenant])
                _ = try await pinned[i % 8].call("job.start", ["job_id": job["id"] ?? .null, "tenant_id": tenant])
                _ = try await pinned[i % 8].call("job.complete", ["job_id": job["id"] ?? .null, "tenant_id": tenant])
            }
            operations += result.latencies.count
            samples.append(String(format: "%.0fs %d MB", ms(clock.now - start) / 1000, Self.residentMegabytes(instance.process.pid)))
        }
        churn.cancel()
        for writer in writers { await writer.close() }
        for subscriber in subscribers { await subscriber.close() }
        for drain in drains { drain.cancel() }
        print("soak        \(operations) lifecycles (create, start, complete) with 3 + 1 churning subscribers; instance RSS: "
            + samples.joined(separator: ", "))
    }

    static func residentMegabytes(_ pid: pid_t) -> Int {
        guard let status = try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8),
              let line = status.split(separator: "\n").first(where: { $0.hasPrefix("VmRSS:") }),
              let kilobytes = Int(line.split(separator: " ").dropFirst().first ?? "") else { return -1 }
        return kilobytes / 1024
    }

    func ms(_ duration: Duration) -> Double { duration.inSeconds * 1000 }

    func percentile(_ values: [Double], _ p: Double) -> Double {
        guard !values.isEmpty else { return 0 }
        let sorted = values.sorted()
        return sorted[max(0, min(sorted.count - 1, Int((p / 100 * Double(sorted.count)).rounded(.up)) - 1))]
    }
}
