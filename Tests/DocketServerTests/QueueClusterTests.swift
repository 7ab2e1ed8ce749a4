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

        /// Jobs completed so far, shared by the claimers and the sampler.
        final class Finished: Sendable {
            let count = Mutex(0)
            var value: Int { count.withLock { $0 } }
            func add() { count.withLock { $0 += 1 } }
        }

        @Test func concurrencyHoldsAcrossThreeInstances() async throws {
            try await Cluster.with(3) { servers, endpoint in
                let t: JSONValue = .string("t")
                let setup = try await servers[0].client()
                for (queue, limit) in Self.limits {
                    var args: [String: JSONValue] = ["queue": .string(queue), "tenant_id": t]
                    if let limit { args["concurrency"] = .number(Double(limit)) } else { args["weight"] = .number(1) }
                    _ = try await setup.call("queue.update", args)
                }
                // 400 due jobs, 100 per queue, one batch per queue.
                let due: JSONValue = .object(["kind": .string("once"), "run_at": .string("2020-01-01T00:00:00Z")])
                for queue in Self.limits.keys {
                    let jobs: [JSONValue] = (0..<100).map { .object(["name": .string("\(queue)-\($0)"), "queue": .string(queue), "schedule": due]) }
                    _ = try await setup.call("job.create_many", ["tenant_id": t, "jobs": .array(jobs)])
                }
                await setup.close()

                let finished = Finished()
                let peaks = try await withThrowingTaskGroup(of: [String: Int].self) { group in
                    // Eight claimers spread over the three instances, each taking from every queue.
                    for index in 0..<8 {
                        let server = servers[index % 3]
                        group.addTask {
                            let worker = try await server.client()
                            defer { Task { await worker.close() } }
                            let deadline = ContinuousClock.now + .seconds(150)
                            while ContinuousClock.now < deadline, finished.value < 400 {
                                let jobs = try await worker.call("job.claim", ["tenant_id": .string("t"), "limit": .number(10)]).list
                                for job in jobs {
                                    try await worker.call("job.complete", ["job_id": job["id"]!, "tenant_id": .string("t")])
                                    finished.add()
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
                            let deadline = ContinuousClock.now + .seconds(150)
                            while ContinuousClock.now < deadline, finished.value < 400 {
                                let rows = try await database.read { connection in
                                    try await connection.query("""
                                        SELECT queue, count(*)::int FROM docket.jobs WHERE status = 'running' GROUP BY queue
                                        """, logger: database.logger).collect().map { try $0.decode((String, Int).self) }
                                }
                                for (queue, running) in rows { peaks[queue] = max(peaks[queue] ?? 0, running) }
                                try await Task.sleep(for: .milliseconds(20))  // models time: a sample every 20 ms
                            }
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
                print("queue cluster figures: \(succeeded) of 400 jobs ran, \(runs) runs, peaks \(peaks)")
                #expect(succeeded == 400 && runs == 400 && duplicates == 0, "every job ran exactly once")
                for (queue, limit) in Self.limits {
                    if let limit { #expect((peaks[queue] ?? 0) <= limit, "\(queue): peak \(peaks[queue] ?? 0) above \(limit)") }
                }
            }
        }
    }
}
