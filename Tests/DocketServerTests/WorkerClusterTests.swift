import DocketClient
import DocketCore
import DocketPostgres
import DocketServices
import DocketTestSupport
import Foundation
import Logging
import PostgresNIO
import Testing

extension QueueSuites {
    /// Issue 15's whole path: three docketd, two Swift workers (the example worker) and one Python worker, over
    /// thousands of jobs of three kinds — a kill -9 of a worker mid-job, and a SIGTERM that drains.
    @Suite struct WorkerClusterTests {
        /// Jobs to create: `DOCKET_WORKER_CLUSTER_JOBS`, default 5,000.
        static var total: Int { ProcessInfo.processInfo.environment["DOCKET_WORKER_CLUSTER_JOBS"].flatMap(Int.init) ?? 5_000 }
        static let logger = Logger(label: "test.worker-cluster")

        /// A worker process: the Swift example worker or the Python one, on one instance.
        static func worker(_ runtime: String, name: String, kinds: String, server: Docketd, token: String) throws -> RunningCommand {
            let common = ["--token", token, "--kinds", kinds, "--name", name, "--heartbeat", "1", "--lease", "4", "--concurrency", "16"]
            if runtime == "swift" {
                return try Command(executable: try PackagePaths.exampleWorker,
                                   arguments: ["--address", "127.0.0.1:\(server.port)"] + common).start()
            }
            return try Command(executable: "/usr/bin/env", arguments: [
                "PYTHONPATH=\(PackagePaths.root)/clients/python/src", "python3", "-u",
                PackagePaths.root + "/examples/python-worker/worker.py", "--port", "\(server.port)",
            ] + common).start()
        }

        static func tenantKey(_ endpoint: DatabaseEndpoint) async throws -> String {
            try await withDatabase(endpoint) { database in
                try await APIKeyService(database: database).create(
                    for: Principal(id: "app", type: .service, tenantId: "acme", scopes: [.jobAdmin])).token
            }
        }

        @Test func threeInstancesTwoSwiftWorkersAndAPythonWorkerRunEveryJobOnce() async throws {
            try await Cluster.with(3) { servers, endpoint in
                let token = try await Self.tenantKey(endpoint)
                let docket = try await Docket.connect(port: servers[0].port, token: token)
                var workers = [
                    "swift-1": try Self.worker("swift", name: "swift-1", kinds: "a,b", server: servers[0], token: token),
                    "swift-2": try Self.worker("swift", name: "swift-2", kinds: "a,b", server: servers[1], token: token),
                    "python-1": try Self.worker("python", name: "python-1", kinds: "c", server: servers[2], token: token),
                ]
                defer { for process in workers.values { process.signal(SIGKILL) } }
                for (name, process) in workers {
                    _ = try await process.waitForLine(timeout: .seconds(60)) { $0.hasPrefix("worker \(name) ready") }
                }
                let retry: JSONValue = ["max_attempts": 3, "initial_backoff_seconds": 0.5, "max_backoff_seconds": 1, "jitter": 0]

                // A long job first, at the top priority, so a Swift worker holds it when it is killed.
                var long = Docket.NewJob.now("long", kind: "a", args: ["sleep_ms": 3_000, "n": -1])
                long.priority = 100
                long.retryPolicy = retry
                let longJob = try await docket.jobs.create(long)
                let holder = try await eventually(.seconds(30), every: .milliseconds(20)) { () async throws -> String? in
                    let job = try await docket.jobs.get(longJob.id)
                    return job.status == .running ? job.claimedBy : nil
                }
                let survivor = holder == "swift-1" ? "swift-2" : "swift-1"

                var created: [Docket.Job] = []
                let kinds = ["a", "b", "c"]
                for start in stride(from: 0, to: Self.total, by: 500) {
                    created += try await docket.jobs.createMany((start..<min(start + 500, Self.total)).map { index in
                        var job = Docket.NewJob.now("job-\(index)", kind: kinds[index % 3], args: ["n": .number(Double(index))])
                        job.retryPolicy = retry
                        return job
                    })
                    if start == 0 {
                        // Mid-job: the holder dies with the long job (and whatever else it had) in hand.
                        try await Task.sleep(for: .milliseconds(300))  // models time: it has other jobs running too
                        workers[holder]?.signal(SIGKILL)
                        _ = try await workers[holder]?.wait(timeout: .seconds(10))
                    }
                }

                // Every job succeeds, the long one after its lease ran out, on the surviving Swift worker.
                _ = try await eventually(.seconds(600), every: .milliseconds(500)) { () async throws -> Bool? in
                    let open = try await docket.jobs.list(Docket.JobQuery(status: [.scheduled, .running, .failed]), page: .init(limit: 1))
                    return open.items.isEmpty ? true : nil
                }
                let finished = try await docket.jobs.get(longJob.id)
                #expect(finished.status == .succeeded && finished.output?["worker"] == .string(survivor), "\(finished.output ?? .null)")
                let longRuns = try await docket.jobs.history(longJob.id)
                #expect(longRuns.map(\.status) == ["failed", "succeeded"] && longRuns.first?.errorCode == "LEASE_EXPIRED"
                        && longRuns.first?.claimedBy == holder, "\(longRuns.map { ($0.status, $0.errorCode ?? "", $0.claimedBy ?? "") })")

                // Each job succeeded once, in a worker of its kind; a second run only after a run the kill cut short.
                let runs = try await withDatabase(endpoint) { database in
                    try await database.read { connection in
                        let rows = try await connection.query("""
                            SELECT job_id, count(*)::int, count(*) FILTER (WHERE status = 'succeeded')::int,
                                   bool_and(status = 'succeeded' OR (error_code = 'LEASE_EXPIRED' AND claimed_by = \(holder)))
                              FROM docket.job_runs GROUP BY job_id
                            """, logger: Self.logger)
                        var found: [UUID: (Int, Int, Bool)] = [:]
                        for try await (id, all, succeeded, fair) in rows.decode((UUID, Int32, Int32, Bool).self) {
                            found[id] = (Int(all), Int(succeeded), fair)
                        }
                        return found
                    }
                }
                var repeated = 0
                for job in created {
                    guard let (all, succeeded, fair) = runs[job.id] else {
                        Issue.record("\(job.name) never ran")
                        continue
                    }
                    #expect(succeeded == 1 && fair, "\(job.name): \(all) runs, \(succeeded) succeeded")
                    if all > 1 { repeated += 1 }
                }
                let stored = try await docket.jobs.list(Docket.JobQuery(status: [.succeeded], kind: "c"), page: .init(limit: 500))
                #expect(stored.items.allSatisfy { $0.output?["runtime"] == "python" && $0.output?["worker"] == "python-1" })
                let swiftDone = try await docket.jobs.list(Docket.JobQuery(status: [.succeeded], kind: "b"), page: .init(limit: 500))
                #expect(swiftDone.items.allSatisfy { $0.output?["runtime"] == "swift" })
                print("worker cluster: \(created.count) jobs, \(repeated) ran again after the kill of \(holder)")

                // SIGTERM: the Python worker finishes the job in hand and takes nothing more.
                let inHand = try await docket.jobs.create(.now("in-hand", kind: "c", args: ["sleep_ms": 1_500]))
                _ = try await eventually(.seconds(20), every: .milliseconds(20)) { () async throws -> Bool? in
                    try await docket.jobs.get(inHand.id).claimedBy == "python-1" ? true : nil
                }
                workers["python-1"]?.signal(SIGTERM)
                try await Task.sleep(for: .milliseconds(200))  // models time: the worker has begun its drain
                let after = try await docket.jobs.create(.now("after", kind: "c"))
                #expect(try await workers["python-1"]?.wait(timeout: .seconds(30)) == 0, "the Python worker exits cleanly on SIGTERM")
                #expect(try await docket.jobs.get(inHand.id).status == .succeeded, "its running handler finished")
                try await Task.sleep(for: .seconds(1))  // models time: a claim would have come by now
                #expect(try await docket.jobs.get(after.id).claimedBy == nil, "nothing claimed after SIGTERM")
                workers["python-1"] = nil
                await docket.close()
            }
        }
    }
}
