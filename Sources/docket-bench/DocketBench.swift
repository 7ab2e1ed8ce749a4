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
    @Option(help: "Comma-separated scenarios: create, get, lifecycle, claim.") var scenarios = "create,get,lifecycle,claim"
    @Option(help: "Run the cluster scenarios instead (three docketd): failover, freeze, slots, propagation, bus.")
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
        do { try await bench(target, logger: logger) } catch { failure = error }
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

    private func bench(_ target: (host: String, port: Int, token: String, database: String?), logger: Logger) async throws {
        var clients: [DocketClient] = []
        for _ in 0..<connections {
            clients.append(try await DocketClient.connect(host: target.host, port: target.port, token: target.token))
        }
        let pool: PostgresClient? = try target.database.map { url in
            var configuration = try DatabaseEndpoint(url: url).clientConfiguration
            configuration.options.maximumConnections = connections
            configuration.options.minimumConnections = connections
            return PostgresClient(configuration: configuration, backgroundLogger: logger)
        }
        let workers = connections * depth
        let duration = Duration.milliseconds(Int(seconds * 1000))
        print("docket-bench: \(connections) connections × depth \(depth) = \(workers) workers, \(seconds) s per scenario")
        print("scenario    side      ops/s      p50 ms   p99 ms   p99.9 ms  errors")
        try await withThrowingTaskGroup(of: Void.self) { group in
            if let pool { group.addTask { await pool.run() } }
            defer { group.cancelAll() }
            let direct = pool.map { DirectSQL(client: $0, logger: logger) }
            let tenant: JSONValue = .string("bench")
            for scenario in scenarios.split(separator: ",").map(String.init) {
                let pinned = clients
                let client: @Sendable (Int) -> DocketClient = { worker in pinned[worker % pinned.count] }
                var served: Measurement
                var baseline: Measurement?
                switch scenario {
                case "create":
                    served = await measure("create", workers: workers, duration: duration) { i in
                        _ = try await client(i).call("job.create", ["name": .string("bench-\(i)"), "tenant_id": tenant])
                    }
                    if let direct { baseline = await measure("create", workers: workers, duration: duration) { _ in _ = try await direct.create() } }
                case "get":
                    var ids: [JSONValue] = []
                    for index in 0..<200 {
                        let job = try await clients[0].call("job.create", ["name": .string("get-\(index)"), "tenant_id": tenant])
                        ids.append(job.objectValue?["id"] ?? .null)
                    }
                    let known = ids
                    served = await measure("get", workers: workers, duration: duration) { i in
                        _ = try await client(i).call("job.get", ["job_id": known[i % known.count], "tenant_id": tenant])
                    }
                    if let direct {
                        var raw: [UUID] = []
                        for _ in 0..<200 { raw.append(try await direct.create()) }
                        let rawKnown = raw
                        baseline = await measure("get", workers: workers, duration: duration) { i in try await direct.get(rawKnown[i % rawKnown.count]) }
                    }
                case "lifecycle":
                    served = await measure("lifecycle", workers: workers, duration: duration) { i in
                        let job = try await client(i).call("job.create", ["name": .string("life-\(i)"), "tenant_id": tenant])
                        let id = job.objectValue?["id"] ?? .null
                        _ = try await client(i).call("job.start", ["job_id": id, "tenant_id": tenant])
                        _ = try await client(i).call("job.complete", ["job_id": id, "tenant_id": tenant])
                    }
                    if let direct {
                        baseline = await measure("lifecycle", workers: workers, duration: duration) { _ in
                            let id = try await direct.create()
                            try await direct.start(id)
                            try await direct.complete(id)
                        }
                    }
                case "claim":
                    guard let pool else {
                        print("claim       (needs --database-url to seed due jobs)")
                        continue
                    }
                    let seed = max(20_000, Int(seconds * 6_000))
                    try await DirectSQL.seedDue(pool, tenant: "bench", count: seed, logger: logger)
                    served = await measure("claim", workers: workers, duration: duration) { i in
                        let claimed = try await client(i).call("job.claim", ["limit": .number(1), "tenant_id": tenant, "agent": .string("bench")])
                        guard case .array(let jobs) = claimed, let job = jobs.first else { throw DocketError(.notFound, "nothing due") }
                        _ = try await client(i).call("job.complete", ["job_id": job.objectValue?["id"] ?? .null, "tenant_id": tenant])
                    }
                    if let direct {
                        try await DirectSQL.seedDue(pool, tenant: "bench-direct", count: seed, logger: logger)
                        baseline = await measure("claim", workers: workers, duration: duration) { _ in
                            guard let id = try await direct.claim() else { throw DocketError(.notFound, "nothing due") }
                            try await direct.complete(id)
                        }
                    }
                default:
                    print("\(scenario): unknown scenario (create, get, lifecycle, claim)")
                    continue
                }
                report(served, side: "docketd")
                if let baseline {
                    report(baseline, side: "raw SQL")
                    print("            ratio     \(String(format: "%.2f", served.opsPerSecond / max(baseline.opsPerSecond, 1)))× of raw SQL throughput")
                }
            }
        }
        for client in clients { await client.close() }
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
