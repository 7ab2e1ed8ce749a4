import ArgumentParser
import DocketClient
import DocketCore
import DocketPostgres
import Foundation
import Logging
import PostgresNIO

/// docket-bench: N connections × pipelining depth against docketd, and the same SQL driven directly on the same
/// database with the same number of connections; prints ops/s, p50/p99/p99.9 and the ratio (docs/performance.md).
@main
struct DocketBench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "docket-bench", abstract: "Measure docketd against raw SQL.")

    @Option(help: "A running docketd (host:port). Without it, docket-bench starts one on a throwaway embedded database.")
    var address: String?
    @Option(help: "API key for --address (system key: the bench names its tenant).") var token: String?
    @Option(help: "PostgreSQL URL of that docketd's database, for the direct-SQL baseline.") var databaseURL: String?
    @Option(help: "Client connections (and database connections for the baseline).") var connections = 4
    @Option(help: "Requests in flight per connection.") var depth = 8
    @Option(help: "Seconds per scenario.") var seconds = 5.0
    @Option(help: "Comma-separated scenarios: create, create_many, get, lifecycle, claim, claim10, workers, timeouts, retries.")
    var scenarios = "create,get,lifecycle,claim"
    @Flag(help: "Compare every scenario with PostgreSQL's own limit, measured by pgbench in the same run on the same database, and print each scenario's statements per request.")
    var againstPostgres = false
    @Option(help: "Run the cluster scenarios instead (three docketd; four for claims): failover, freeze, slots, propagation, bus, soak, claims.")
    var cluster: String?
    @Option(help: "Rounds of the failover scenario (and runs of the bus scenario).") var rounds = 3
    @Flag(help: "Diagnostic (cluster only): run PostgreSQL with synchronous_commit off, to see what commit latency adds.")
    var asyncCommit = false

    func run() async throws {
        LoggingSystem.bootstrap { label in
            var handler = StreamLogHandler.standardError(label: label)
            handler.logLevel = .warning
            return handler
        }
        let logger = Logger(label: "docket-bench")
        if let cluster {
            let binary = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent().appendingPathComponent("docketd").path
            try await ClusterBench(binary: binary, seconds: seconds, rounds: rounds, asyncCommit: asyncCommit, logger: logger)
                .run(cluster.split(separator: ",").map(String.init))
            return
        }
        var started: RunningCommand?
        var folder: String?
        let target: (host: String, port: Int, token: String, database: String?)
        if let address {
            guard let colon = address.lastIndex(of: ":"), let port = Int(address[address.index(after: colon)...]), let token else {
                throw ValidationError("--address needs host:port and --token")
            }
            target = (String(address[..<colon]), port, token, databaseURL)
        } else {
            let dir = "/tmp/docket-bench-\(getpid())"
            folder = dir
            if againstPostgres {
                // The bench starts the embedded server itself, with pg_stat_statements loaded; docketd finds it running.
                _ = try await EmbeddedPostgres(dataDirectory: dir, serverSettings: ["shared_preload_libraries": "pg_stat_statements"])
                    .ensureRunning(logger: logger)
            }
            let binary = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent().appendingPathComponent("docketd").path
            let process = try Command(executable: binary, arguments: [
                "--listen", "127.0.0.1:0", "--http", "127.0.0.1:0", "--data-dir", dir, "--log-level", "warning",
                "--pool-size", String(max(connections * 2, 10)), "--max-in-flight", String(max(depth, 1)),
            ]).start()
            started = process
            let line = try await process.waitForLine { $0.hasPrefix("docketd listening on ") }
            let words = line.split(separator: " ")
            let port = Int(words[3].split(separator: ":").last ?? "") ?? 0
            let url = words.last.map { String($0).trimmingCharacters(in: CharacterSet(charactersIn: ")")) }
            let token = try String(contentsOfFile: dir + "/admin.key", encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines)
            target = ("127.0.0.1", port, token, url)
        }
        var failure: (any Error)?
        do { try await bench(target, docketd: started?.pid, logger: logger) } catch { failure = error }
        if let started {
            started.signal(SIGTERM)
            _ = try? await started.wait()
            if let folder {
                _ = try? await EmbeddedPostgres(dataDirectory: folder).stop()
                EmbeddedPostgres.removeFilesQuietly(folder)
            }
        }
        if let failure { throw failure }
    }

    private func bench(_ target: (host: String, port: Int, token: String, database: String?), docketd: pid_t?, logger: Logger) async throws {
        var clients: [DocketClient] = []
        for _ in 0..<connections {
            clients.append(try await DocketClient.connect(host: target.host, port: target.port, token: target.token))
        }
        let endpoint = try target.database.map { try DatabaseEndpoint(url: $0) }
        let pool: PostgresClient? = endpoint.map { endpoint in
            var configuration = endpoint.clientConfiguration
            configuration.options.maximumConnections = connections
            configuration.options.minimumConnections = connections
            return PostgresClient(configuration: configuration, backgroundLogger: logger)
        }
        let workers = connections * depth
        let duration = Duration.milliseconds(Int(seconds * 1000))
        print("docket-bench: \(connections) connections × depth \(depth) = \(workers) workers, \(seconds) s per scenario")
        try await withThrowingTaskGroup(of: Void.self) { group in
            if let pool {
                group.addTask { await pool.run() }
                // Nothing tells when run() has begun, and a lease taken before it logs a warning (it still works).
                try await Task.sleep(for: .milliseconds(20))
            }
            defer { group.cancelAll() }
            var limit: PostgresLimit?
            var counts: StatementCounts?
            if againstPostgres {
                guard let pool, let endpoint else { throw ValidationError("--against-postgres needs the database (--database-url)") }
                limit = try await PostgresLimit.measure(endpoint, pool: pool, clients: connections, seconds: seconds, logger: logger)
                let statements = StatementCounts(pool: pool, logger: logger)
                if await statements.available() { counts = statements }
                print(String(format: "PostgreSQL's limit (pgbench, %d clients): single-row insert %.0f/s, one-statement claim %.0f/s",
                             connections, limit!.insert, limit!.claim))
            }
            print("scenario    side      ops/s      p50 ms   p99 ms   p99.9 ms  errors")
            let direct = limit == nil ? pool.map { DirectSQL(client: $0, logger: logger) } : nil
            let waits = counts == nil ? nil : pool.map { WaitSampler(pool: $0, logger: logger) }
            let cpu = CPUShare(docketd: docketd)
            /// One scenario's docketd side, with the CPU it took and PostgreSQL's connections sampled while it runs
            /// (a raw-SQL baseline after it is left out).
            func sampled<T>(_ body: () async throws -> T) async rethrows -> T {
                cpu.begin()
                defer { cpu.finish() }
                guard let waits else { return try await body() }
                return try await waits.during(body)
            }
            let scenarios = Scenarios(clients: clients, connect: { try await Docket.connect(host: target.host, port: target.port, token: target.token) },
                                      tenant: .string("bench"), workers: workers, duration: duration)
            for scenario in self.scenarios.split(separator: ",").map(String.init) {
                if let pool { try await DirectSQL.clear(pool, logger: logger) }
                try await counts?.reset()
                var served: Measurement
                var baseline: Measurement?
                switch scenario {
                case "create":
                    served = await sampled { await scenarios.create() }
                    if let direct { baseline = await measure("create", workers: workers, duration: duration) { _ in _ = try await direct.create() } }
                case "create_many":
                    served = await sampled { await scenarios.createMany(100) }
                case "get":
                    // The raw read: a primary-key SELECT of the same kind of row, straight on PostgreSQL.
                    var raw: [UUID] = []
                    if let pool { for _ in 0..<200 { raw.append(try await DirectSQL(client: pool, logger: logger).create()) } }
                    try await counts?.reset()
                    served = try await sampled { try await scenarios.get() }
                    if let pool {
                        try await printStatements(counts, served)
                        let known = raw, direct = DirectSQL(client: pool, logger: logger)
                        baseline = await measure("get", workers: workers, duration: duration) { i in try await direct.get(known[i % known.count]) }
                    }
                case "lifecycle":
                    served = await sampled { await scenarios.lifecycle() }
                    if let direct {
                        baseline = await measure("lifecycle", workers: workers, duration: duration) { _ in
                            let id = try await direct.create()
                            try await direct.start(id)
                            try await direct.complete(id)
                        }
                    }
                case "claim", "claim10":
                    guard let pool else {
                        print("\(scenario)  (needs --database-url to seed due jobs)")
                        continue
                    }
                    let batch = scenario == "claim" ? 1 : 10
                    // As many due jobs as pgbench's claim limit is measured on (`PostgresLimit`), whatever the batch.
                    try await DirectSQL.seedDue(pool, tenant: "bench", count: PostgresLimit.seeded(seconds: seconds), logger: logger)
                    try await counts?.reset()
                    served = await sampled { await scenarios.claim(batch) }
                    if let direct, batch == 1 {
                        try await DirectSQL.seedDue(pool, tenant: "bench-direct", count: max(20_000, Int(seconds * 6_000)), logger: logger)
                        baseline = await measure("claim", workers: workers, duration: duration) { _ in
                            guard let id = try await direct.claim() else { throw DocketError(.notFound, "nothing due") }
                            try await direct.complete(id)
                        }
                    }
                case "timeouts", "retries":
                    // 10,000 running jobs whose deadline passes at one moment, or 10,000 failed jobs whose backoff ends at
                    // one moment: how long until the leader's timeout sweep has failed them all (the target is within
                    // 5 s), or its retry sweep has started every next attempt.
                    guard let pool else {
                        print("\(scenario)  (needs --database-url to seed its jobs)")
                        continue
                    }
                    let timeouts = scenario == "timeouts", tenant = "bench-\(scenario)", due = Date().addingTimeInterval(2)
                    if timeouts {
                        try await DirectSQL.seedRunning(pool, tenant: tenant, count: 10_000, deadline: due, logger: logger)
                    } else {
                        try await DirectSQL.seedFailed(pool, tenant: tenant, count: 10_000, retryAt: due, logger: logger)
                    }
                    let waiting = timeouts ? "running" : "failed"
                    try await Task.sleep(for: .seconds(max(0, due.timeIntervalSinceNow)))
                    var left = 10_000
                    while left > 0, Date().timeIntervalSince(due) < 60 {
                        try await Task.sleep(for: .milliseconds(50))
                        left = try await DirectSQL.count(pool, tenant: tenant, status: waiting, logger: logger)
                    }
                    print(String(format: timeouts
                        ? "timeouts    10,000 jobs past their deadline at once: all failed %.2f s after it (%d still running)"
                        : "retries     10,000 failed jobs due for a retry at once: all running %.2f s after it (%d still failed)",
                        Date().timeIntervalSince(due), left))
                    continue
                case "workers":
                    let (measured, latency) = try await sampled { try await scenarios.workers(loops: max(connections / 2, 1)) }
                    served = measured
                    print(String(format: "workers     create → start latency p50 %.2f ms, p99 %.2f ms (%d jobs)",
                                 latency.percentile(50), latency.percentile(99), latency.latencies.count))
                default:
                    print("\(scenario): unknown scenario (create, create_many, get, lifecycle, claim, claim10, workers, timeouts, retries)")
                    continue
                }
                report(served, side: "docketd")
                if let share = cpu.perRequest(served.latencies.count) {
                    print(String(format: "            CPU per request: docketd %.3f ms, bench %.3f ms, the rest (PostgreSQL) %.3f ms; machine %.0f%% busy",
                                 share.docketd, share.bench, share.rest, share.busy * 100))
                }
                if let waits {
                    let states = waits.states().prefix(6).map { String(format: "%.1f %@", $0.connections, $0.state) }
                    print("            PostgreSQL's connections (average): " + states.joined(separator: ", "))
                }
                if served.units != served.latencies.count {
                    print(String(format: "            jobs/s    %9.0f", served.unitsPerSecond))
                }
                if scenario != "get" { try await printStatements(counts, served) }
                if let baseline {
                    report(baseline, side: "raw SQL")
                    print("            ratio     \(String(format: "%.2f", served.opsPerSecond / max(baseline.opsPerSecond, 1)))× of raw SQL throughput")
                }
                if let limit {
                    let (against, name) = Scenarios.limit(of: scenario, limit)
                    if let against {
                        print(String(format: "            ratio     %.2f× of %@ (%.0f/s), in %@/s", served.unitsPerSecond / max(against, 1),
                                     name, against, served.units == served.latencies.count ? "ops" : "jobs"))
                    }
                }
            }
        }
        for client in clients { await client.close() }
    }

    /// The statements PostgreSQL ran per request of `served`, the costliest first (with `--against-postgres`).
    private func printStatements(_ counts: StatementCounts?, _ served: Measurement) async throws {
        guard let counts else { return }
        let (total, statements) = try await counts.perRequest(served.latencies.count)
        print(String(format: "            %.1f PostgreSQL statements per request (calls each × mean execution = time per request, costliest first):", total))
        let wal = try await counts.walPerRequest(served.latencies.count)
        print(String(format: "            WAL per request %.0f bytes, %.2f full-page images; %.1f requests per WAL flush",
                     wal.bytes, wal.fullPages, wal.perFlush))
        for statement in statements.prefix(8) {
            print(String(format: "              %5.2f× %7.2f ms = %6.2f ms  %@", statement.calls, statement.meanMs,
                         statement.calls * statement.meanMs, statement.text))
        }
    }

    private func report(_ m: Measurement, side: String) {
        let numbers = String(format: "%9.0f  %7.2f  %7.2f  %8.2f  %6d", m.opsPerSecond, m.percentile(50), m.percentile(99),
                             m.percentile(99.9), m.errors)
        print(m.label.padding(toLength: 12, withPad: " ", startingAt: 0) + side.padding(toLength: 10, withPad: " ", startingAt: 0) + numbers)
    }
}

extension EmbeddedPostgres {
    /// Removes a throwaway data folder and its server files (the server must be stopped).
    static func removeFilesQuietly(_ folder: String) {
        (try? EmbeddedPostgres(dataDirectory: folder))?.removeFiles()
    }
}
