import DocketClient
import DocketCore
import DocketWorker
import Foundation
import Logging
import ServiceLifecycle
import Synchronization

/// The docketd side of each scenario: `workers` loops over the pinned connections for `duration`.
struct Scenarios: Sendable {
    let clients: [DocketClient]
    /// A typed client of its own (the workers scenario's runtimes).
    let connect: @Sendable () async throws -> Docket
    let tenant: JSONValue
    let workers: Int
    let duration: Duration

    func client(_ worker: Int) -> DocketClient { clients[worker % clients.count] }

    /// PostgreSQL's limit a scenario's throughput is compared with, and its name.
    static func limit(of scenario: String, _ limit: PostgresLimit) -> (Double?, String) {
        switch scenario {
        case "claim", "claim10": return (limit.claim, "the one-statement claim")
        case "get": return (nil, "")
        default: return (limit.insert, "the single-row insert")
        }
    }

    /// `job.create`, one job a request.
    func create() async -> Measurement {
        await measure("create", workers: workers, duration: duration) { i in
            _ = try await client(i).call("job.create", ["name": .string("bench-\(i)"), "tenant_id": tenant])
        }
    }

    /// `job.create_many` of `size` jobs a request.
    func createMany(_ size: Int) async -> Measurement {
        await measureUnits("create_many", workers: workers, duration: duration) { i in
            let jobs: [JSONValue] = (0..<size).map { .object(["name": .string("many-\(i)-\($0)")]) }
            let created = try await client(i).call("job.create_many", ["tenant_id": tenant, "jobs": .array(jobs)])
            return created["jobs"]?.elements.count ?? 0
        }
    }

    /// `job.get` of 200 known jobs.
    func get() async throws -> Measurement {
        var ids: [JSONValue] = []
        for index in 0..<200 {
            ids.append(try await clients[0].call("job.create", ["name": .string("get-\(index)"), "tenant_id": tenant])["id"] ?? .null)
        }
        let known = ids
        return await measure("get", workers: workers, duration: duration) { i in
            _ = try await client(i).call("job.get", ["job_id": known[i % known.count], "tenant_id": tenant])
        }
    }

    /// create → start → complete, three requests counted as one op.
    func lifecycle() async -> Measurement {
        await measure("lifecycle", workers: workers, duration: duration) { i in
            let id = try await client(i).call("job.create", ["name": .string("life-\(i)"), "tenant_id": tenant])["id"] ?? .null
            _ = try await client(i).call("job.start", ["job_id": id, "tenant_id": tenant])
            _ = try await client(i).call("job.complete", ["job_id": id, "tenant_id": tenant])
        }
    }

    /// `job.claim` of up to `batch` seeded due jobs, then `job.complete` of each (side by side); counts jobs.
    func claim(_ batch: Int) async -> Measurement {
        await measureUnits(batch == 1 ? "claim" : "claim\(batch)", workers: workers, duration: duration) { i in
            let jobs = try await client(i).call("job.claim", ["limit": .number(Double(batch)), "tenant_id": tenant,
                                                               "agent": .string("bench")]).elements
            guard !jobs.isEmpty else { throw DocketError(.notFound, "nothing due") }
            try await complete(jobs, on: client(i))
            return jobs.count
        }
    }

    func complete(_ jobs: [JSONValue], on client: DocketClient) async throws {
        try await withThrowingTaskGroup(of: Void.self) { group in
            for job in jobs {
                group.addTask { _ = try await client.call("job.complete", ["job_id": job["id"] ?? .null, "tenant_id": tenant]) }
            }
            try await group.waitForAll()
        }
    }

    /// The worker path end to end, through the worker runtime (DocketWorker): `loops` workers of `concurrency` slots,
    /// each its own connection, run a no-op handler while producers keep a short backlog; throughput is jobs completed
    /// per second, and the latency is from the create being sent to the handler starting.
    func workers(loops: Int, concurrency: Int = 10) async throws -> (Measurement, Measurement) {
        let sent = Shared<[String: ContinuousClock.Instant]>([:])
        let latencies = Shared<[Duration]>([])
        let clock = ContinuousClock()
        let due: JSONValue = .object(["kind": .string("once"), "run_at": .string("2020-01-01T00:00:00Z")])
        var runtimes: [Worker] = []
        for loop in 0..<loops {
            let handler: JobHandler = { context in
                let now = clock.now
                if let sentAt = sent.withLock({ $0.removeValue(forKey: context.job.name) }) { latencies.withLock { $0.append(now - sentAt) } }
                return .done
            }
            runtimes.append(try Worker(docket: try await connect(), handlers: ["bench.work": handler],
                                       options: WorkerOptions(concurrency: concurrency, pollInterval: .seconds(1), agent: "bench-\(loop)",
                                                              tenantId: tenant.stringValue)))
        }
        let group = ServiceGroup(services: runtimes, gracefulShutdownSignals: [], cancellationSignals: [], logger: Logger(label: "bench.workers"))
        let running = Task { try await group.run() }
        let producers = max(workers - loops * concurrency, 4)
        let start = clock.now
        let deadline = start + duration
        try await withThrowingTaskGroup(of: Void.self) { group in
            for producer in 0..<producers {
                group.addTask {
                    var index = 0
                    while clock.now < deadline {
                        // A backlog of two jobs a slot at most: the latency measured is the path's, not a queue's.
                        if sent.withLock({ $0.count }) >= loops * concurrency * 2 {
                            try await Task.sleep(for: .milliseconds(1))
                            continue
                        }
                        let name = "w-\(producer)-\(index)"
                        sent.withLock { $0[name] = clock.now }
                        _ = try await client(producer).call("job.create", ["name": .string(name), "kind": "bench.work", "tenant_id": tenant,
                                                                           "schedule": due])
                        index += 1
                    }
                }
            }
            try await group.waitForAll()
        }
        let completedInTime = runtimes.reduce(0) { $0 + $1.statistics.completed }
        let elapsed = clock.now - start
        await group.triggerGracefulShutdown()
        try await running.value
        let waits = latencies.withLock { $0 }
        let throughput = Measurement(label: "workers", latencies: Array(repeating: .zero, count: completedInTime), elapsed: elapsed,
                                     errors: 0, units: completedInTime)
        return (throughput, Measurement(label: "latency", latencies: waits, elapsed: elapsed, errors: 0, units: waits.count))
    }
}

extension JSONValue {
    /// An array's elements (a claim's jobs), or nothing.
    var elements: [JSONValue] {
        if case .array(let items) = self { return items }
        return []
    }
}

/// A value the scenario's tasks share.
final class Shared<Value: Sendable>: Sendable {
    private let value: Mutex<Value>
    init(_ value: Value) { self.value = Mutex(value) }
    func withLock<T: Sendable>(_ body: (inout Value) -> T) -> T { value.withLock { body(&$0) } }
}
