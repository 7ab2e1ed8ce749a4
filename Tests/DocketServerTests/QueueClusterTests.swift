import DocketClient
import DocketCore
import DocketPostgres
import DocketTestSupport
import Foundation
import Synchronization
import Testing

extension QueueSuites {
    /// Queue limits across instances: three docketd on one PostgreSQL, claimers on all of them.
    @Suite struct QueueClusterTests {
        /// The queues and their concurrency limits (nil: none).
        static var limits: [String: Int?] { ["one": 1, "five": 5, "fifty": 50, "open": nil] }

        /// The jobs of each queue: 20,000 in all. A queue of concurrency 1 runs one job at a time whatever the number of
        /// claimers, so it holds the fewest (as a serial queue does in practice); it still sees 500 starts under
        /// contention from eight claimers.
        static var counts: [String: Int] { ["one": 500, "five": 2_500, "fifty": 8_500, "open": 8_500] }
        static var total: Int { counts.values.reduce(0, +) }

        /// Jobs completed so far, shared by the claimers and the sampler.
        final class Finished: Sendable {
            let count = Mutex(0)
            var value: Int { count.withLock { $0 } }
            func add() { count.withLock { $0 += 1 } }
        }

        @Test func concurrencyHoldsAcrossThreeInstances() async throws {
            // The bus is off: nothing here subscribes, and three debug builds each reading every event of 20,000 jobs
            // would spend the run's CPU on that instead of on claims.
            try await Cluster.with(3, ["--bus", "off"]) { servers, endpoint in
                let t: JSONValue = .string("t")
                let setup = try await servers[0].client()
                for (queue, limit) in Self.limits {
                    var args: [String: JSONValue] = ["queue": .string(queue), "tenant_id": t]
                    if let limit { args["concurrency"] = .number(Double(limit)) } else { args["weight"] = .number(1) }
                    _ = try await setup.call("queue.update", args)
                }
                // 20,000 due jobs, in batches of 1,000.
                let due: JSONValue = .object(["kind": .string("once"), "run_at": .string("2020-01-01T00:00:00Z")])
                for (queue, count) in Self.counts {
                    for batch in stride(from: 0, to: count, by: 1_000) {
                        let jobs: [JSONValue] = (batch..<min(count, batch + 1_000)).map {
                            .object(["name": .string("\(queue)-\($0)"), "queue": .string(queue), "schedule": due])
                        }
                        _ = try await setup.call("job.create_many", ["tenant_id": t, "jobs": .array(jobs)])
                    }
                }
                await setup.close()

                let finished = Finished()
                let peaks = try await withThrowingTaskGroup(of: [String: Int].self) { group in
                    // Eight claimers spread over the three instances, each taking from every queue and completing what
                    // it took side by side, as a worker with ten slots does.
                    let total = Self.total
                    for index in 0..<8 {
                        let server = servers[index % 3]
                        group.addTask {
                            let worker = try await server.client()
                            defer { Task { await worker.close() } }
                            let deadline = ContinuousClock.now + .seconds(600)
                            while ContinuousClock.now < deadline, finished.value < total {
                                let jobs = try await worker.call("job.claim", ["tenant_id": .string("t"), "limit": .number(10)]).list
                                try await withThrowingTaskGroup(of: Void.self) { slots in
                                    for job in jobs {
                                        slots.addTask {
                                            try await worker.call("job.complete", ["job_id": job["id"]!, "tenant_id": .string("t")])
                                            finished.add()
                                        }
                                    }
                                    try await slots.waitForAll()
                                }
                                if jobs.isEmpty { try await Task.sleep(for: .milliseconds(20)) }  // models time: an idle worker's poll
                            }
                            return [:]
                        }
                    }
                    // The sampler: each queue's running jobs, read from PostgreSQL every 20 ms.
                    group.addTask {
                        try await withDatabase(endpoint) { database in
                            var peaks: [String: Int] = [:]
                            var samples = 0
                            let deadline = ContinuousClock.now + .seconds(600)
                            while ContinuousClock.now < deadline, finished.value < total {
                                samples += 1
                                let rows = try await database.read { connection in
                                    try await connection.query("""
                                        SELECT queue, count(*)::int FROM docket.jobs WHERE status = 'running' GROUP BY queue
                                        """, logger: database.logger).collect().map { try $0.decode((String, Int).self) }
                                }
                                for (queue, running) in rows { peaks[queue] = max(peaks[queue] ?? 0, running) }
                                try await Task.sleep(for: .milliseconds(20))  // models time: a sample every 20 ms
                            }
                            peaks["samples"] = samples
                            return peaks
                        }
                    }
                    var peaks: [String: Int] = [:]
                    for try await result in group where !result.isEmpty { peaks = result }
                    return peaks
                }
                let (runs, succeeded, duplicates) = try await withDatabase(endpoint) { database in
                    try await database.read { connection in
                        try await connection.query("""
                            SELECT (SELECT count(*)::int FROM docket.job_runs),
                                   (SELECT count(*)::int FROM docket.jobs WHERE status = 'succeeded'),
                                   (SELECT count(*)::int FROM (SELECT job_id FROM docket.job_runs GROUP BY job_id HAVING count(*) > 1) d)
                            """, logger: database.logger).collect().first!.decode((Int, Int, Int).self)
                    }
                }
                print("queue cluster figures: \(succeeded) of \(Self.total) jobs ran, \(runs) runs, peaks \(peaks)")
                #expect(succeeded == Self.total && runs == Self.total && duplicates == 0, "every job ran exactly once")
                #expect((peaks["samples"] ?? 0) > 10, "the sampler read PostgreSQL during the run")
                for (queue, limit) in Self.limits {
                    if let limit { #expect((peaks[queue] ?? 0) <= limit, "\(queue): peak \(peaks[queue] ?? 0) above \(limit)") }
                }
            }
        }
    

        /// Eight claimers over the instances, each claiming up to `limit` jobs of `queues` and completing them, until
        /// `done` (asked every 100 ms) says so or a minute passes; returns the queues of the jobs they were given.
        static func drain(
            _ servers: [Docketd], queues: [String]? = nil, limit: Int = 5, until done: @escaping @Sendable () async throws -> Bool
        ) async throws -> [String: Int] {
            let stop = Finished()
            return try await withThrowingTaskGroup(of: [String: Int].self) { group in
                for index in 0..<8 {
                    let server = servers[index % servers.count]
                    group.addTask {
                        let worker = try await server.client()
                        defer { Task { await worker.close() } }
                        var args: [String: JSONValue] = ["tenant_id": .string("t"), "limit": .number(Double(limit))]
                        if let queues { args["queues"] = .array(queues.map(JSONValue.string)) }
                        var seen: [String: Int] = [:]
                        while stop.value == 0 {
                            let jobs = try await worker.call("job.claim", args).list
                            for job in jobs {
                                seen[job["queue"]?.stringValue ?? "?", default: 0] += 1
                                try await worker.call("job.complete", ["job_id": job["id"]!, "tenant_id": .string("t")])
                            }
                            if jobs.isEmpty { try await Task.sleep(for: .milliseconds(20)) }  // models time: an idle worker's poll
                        }
                        return seen
                    }
                }
                group.addTask {
                    let deadline = ContinuousClock.now + .seconds(60)
                    while try await !done(), ContinuousClock.now < deadline {
                        try await Task.sleep(for: .milliseconds(100))  // models time: a progress check every 100 ms
                    }
                    stop.add()
                    return [:]
                }
                var seen: [String: Int] = [:]
                for try await part in group { seen.merge(part, uniquingKeysWith: +) }
                return seen
            }
        }

        /// `count` due jobs in `queue`.
        static func due(_ client: DocketClient, queue: String, count: Int) async throws {
            let due: JSONValue = .object(["kind": .string("once"), "run_at": .string("2020-01-01T00:00:00Z")])
            let jobs: [JSONValue] = (0..<count).map { .object(["name": .string("\(queue)-\($0)"), "queue": .string(queue), "schedule": due]) }
            _ = try await client.call("job.create_many", ["tenant_id": .string("t"), "jobs": .array(jobs)])
        }

        /// The jobs of each queue in `status`.
        static func counts(_ endpoint: DatabaseEndpoint, status: String) async throws -> [String: Int] {
            let rows: [(String, Int)] = try await withDatabase(endpoint) { database in
                try await database.read { connection in
                    try await connection.query("""
                        SELECT queue, count(*)::int FROM docket.jobs WHERE status = \(status) GROUP BY queue
                        """, logger: database.logger).collect().map { try $0.decode((String, Int).self) }
                }
            }
            return rows.reduce(into: [:]) { $0[$1.0] = $1.1 }
        }

        @Test func aRateLimitHoldsAcrossThreeInstances() async throws {
            try await Cluster.with(3) { servers, endpoint in
                let setup = try await servers[0].client()
                _ = try await setup.call("queue.update", ["queue": .string("metered"), "tenant_id": .string("t"),
                                                           "rate_limit": .object(["count": .number(10), "per_seconds": .number(1)])])
                try await Self.due(setup, queue: "metered", count: 100)
                await setup.close()
                let seen = try await Self.drain(servers, queues: ["metered"]) {
                    try await Self.counts(endpoint, status: "succeeded")["metered"] ?? 0 >= 100
                }
                let starts = try await withDatabase(endpoint) { database in
                    try await database.read { connection in
                        try await connection.query("""
                            SELECT extract(epoch FROM r.started_at)::float8 FROM docket.job_runs r
                            JOIN docket.jobs j ON j.id = r.job_id WHERE j.queue = 'metered' ORDER BY r.started_at
                            """, logger: database.logger).collect().map { try $0.decode(Double.self) }
                    }
                }
                // The busiest one-second window, over every window that opens at a start.
                let busiest = starts.indices.map { first in starts[first...].prefix { $0 < starts[first] + 1 }.count }.max() ?? 0
                let span = (starts.last ?? 0) - (starts.first ?? 0)
                print("rate limit across instances: \(starts.count) starts over \(span) s, busiest second \(busiest), claimed \(seen)")
                #expect(starts.count == 100, "every job started once")
                #expect(busiest <= 10, "at most 10 starts in any one-second window, saw \(busiest)")
                #expect(busiest >= 5, "the limit, not the claimers, set the pace")
                #expect(span >= 8, "100 starts at 10 a second take at least nine windows")
            }
        }

        @Test func aPausedQueueStartsNothingOnAnyInstanceAndDrainsOnResume() async throws {
            try await Cluster.with(3) { servers, endpoint in
                let setup = try await servers[0].client()
                defer { Task { await setup.close() } }
                _ = try await setup.call("queue.pause", ["queue": .string("held"), "tenant_id": .string("t")])
                try await Self.due(setup, queue: "held", count: 50)
                try await Self.due(setup, queue: "free", count: 50)
                let whilePaused = try await Self.drain(servers) {
                    try await Self.counts(endpoint, status: "succeeded")["free"] ?? 0 >= 50
                }
                try await Task.sleep(for: .milliseconds(500))  // models time: several sweep passes and claims after the free queue emptied
                #expect(whilePaused == ["free": 50], "claims returned only the other queue's jobs: \(whilePaused)")
                let heldNow = try await Self.counts(endpoint, status: "scheduled")["held"]
                #expect(heldNow == 50, "the paused queue's jobs are all still due")

                _ = try await setup.call("queue.resume", ["queue": .string("held"), "tenant_id": .string("t")])
                let afterResume = try await Self.drain(servers) {
                    try await Self.counts(endpoint, status: "succeeded")["held"] ?? 0 >= 50
                }
                #expect(afterResume == ["held": 50], "the resumed queue drained: \(afterResume)")
            }
        }
    }
}
