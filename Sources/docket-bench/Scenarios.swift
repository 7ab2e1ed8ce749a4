import DocketClient
import DocketCore
import Foundation
import Synchronization

/// The docketd side of each scenario: `workers` loops over the pinned connections for `duration`.
struct Scenarios: Sendable {
    let clients: [DocketClient]
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

    /// Producers create due jobs while `loops` claim loops (claims of up to 10, completed side by side, a 5 ms poll
    /// when idle) work them off: completed jobs per second, and each job's latency from its create request to the claim
    /// answer that carried it.
    func workers(loops: Int) async throws -> (Measurement, Measurement) {
        let sent = Shared<[String: ContinuousClock.Instant]>([:])
        let latencies = Shared<[Duration]>([])
        let clock = ContinuousClock()
        let deadline = clock.now + duration
        let due: JSONValue = .object(["kind": .string("once"), "run_at": .string("2020-01-01T00:00:00Z")])
        let producers = max(workers - loops, 1)
        let start = clock.now
        let completed = try await withThrowingTaskGroup(of: Int.self) { group in
            for worker in 0..<producers {
                group.addTask {
                    var index = 0
                    while clock.now < deadline {
                        // A backlog of ten jobs per claim loop at most: the latency measured is the path's, not a queue's.
                        if sent.withLock({ $0.count }) >= loops * 10 {
                            try await Task.sleep(for: .milliseconds(1))
                            continue
                        }
                        let name = "w-\(worker)-\(index)"
                        sent.withLock { $0[name] = clock.now }
                        _ = try await client(worker).call("job.create", ["name": .string(name), "tenant_id": tenant, "schedule": due])
                        index += 1
                    }
                    return 0
                }
            }
            for loop in 0..<loops {
                group.addTask {
                    var done = 0
                    while clock.now < deadline {
                        let worker = client(loop)
                        let jobs = try await worker.call("job.claim", ["limit": .number(10), "tenant_id": tenant,
                                                                         "agent": .string("bench-\(loop)")]).elements
                        let now = clock.now
                        let names = jobs.compactMap { $0["name"]?.stringValue }
                        let waited = sent.withLock { sent in names.compactMap { sent.removeValue(forKey: $0).map { now - $0 } } }
                        latencies.withLock { $0 += waited }
                        if jobs.isEmpty {
                            try await Task.sleep(for: .milliseconds(5))
                            continue
                        }
                        try await complete(jobs, on: worker)
                        done += jobs.count
                    }
                    return done
                }
            }
            return try await group.reduce(0, +)
        }
        let elapsed = clock.now - start
        let waits = latencies.withLock { $0 }
        let throughput = Measurement(label: "workers", latencies: Array(repeating: .zero, count: completed), elapsed: elapsed,
                                     errors: 0, units: completed)
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
