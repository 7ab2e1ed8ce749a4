import DocketClient
import DocketCore
import DocketPostgres
import DocketTestSupport
import Foundation
import Testing

/// The retention sweep, through a real docketd: history past its age, and finished jobs past their status's age.
@Suite struct RetentionTests {
    /// Retention deletes events and finished runs past their age, on the leader, and nothing younger or unfinished.
    @Test func retentionPrunesOnlyWhatIsPastItsAge() async throws {
        try await withDocketd(["--retention", "5s"]) { server, endpoint in
            let client = try await server.client()
            defer { Task { await client.close() } }
            let t: JSONValue = .string("t")
            let old = try await client.call("job.create", ["name": .string("old"), "tenant_id": t])
            try await client.call("job.start", ["job_id": old["id"]!, "tenant_id": t])
            try await client.call("job.complete", ["job_id": old["id"]!, "tenant_id": t])
            let open = try await client.call("job.create", ["name": .string("still running"), "tenant_id": t])
            try await client.call("job.start", ["job_id": open["id"]!, "tenant_id": t])
            try await Task.sleep(for: .seconds(5))  // models time: the first jobs grow older than the retention
            let fresh = try await client.call("job.create", ["name": .string("fresh"), "tenant_id": t])
            let counts = try await withDatabase(endpoint) { database in try await eventually(.seconds(20)) { () -> (Int, Int, Int, Int)? in
                let found: (Int, Int, Int, Int) = try await database.read { connection in
                        let rows = try await connection.query("""
                            SELECT (SELECT count(*)::int FROM docket.events WHERE entity_id = \(old["id"]!.stringValue ?? "")),
                                   (SELECT count(*)::int FROM docket.job_runs WHERE status <> 'running'),
                                   (SELECT count(*)::int FROM docket.job_runs WHERE status = 'running'),
                                   (SELECT count(*)::int FROM docket.events WHERE entity_id = \(fresh["id"]!.stringValue ?? ""))
                            """, logger: .init(label: "test")).collect()
                        return try rows[0].decode((Int, Int, Int, Int).self)
                }
                return found.0 == 0 && found.1 == 0 ? found : nil
            } }
            #expect(counts.2 == 1, "the running job's open run stays")
            #expect(counts.3 >= 1, "the fresh job's events stay")
            // The jobs themselves stay: retention prunes history, not state.
            #expect(try await client.call("job.get", ["job_id": old["id"]!, "tenant_id": t])["status"] == .string("succeeded"))
            let status = try await client.call("cluster.status")
            guard case .string(let leader)? = status["leader"]?["instance_id"] else { Issue.record("no leader"); return }
            #expect(status["sweeps"]?["retention"]?["instance_id"] == .string(leader), "the leader ran it")
        }
    }

    /// Finished jobs past their status's age are deleted with their runs; a job waiting for a retry, one still running
    /// and a status kept with `off` stay.
    @Test func finishedJobsArePrunedByStatusAge() async throws {
        try await withDocketd(["--retain-succeeded", "2s", "--retain-failed", "2s", "--retain-cancelled", "off"]) { server, endpoint in
            let client = try await server.client()
            defer { Task { await client.close() } }
            let t: JSONValue = .string("t")
            func started(_ name: String, _ extra: [String: JSONValue] = [:]) async throws -> JSONValue {
                let job = try await client.call("job.create", ["name": .string(name), "tenant_id": t].merging(extra) { a, _ in a })
                try await client.call("job.start", ["job_id": job["id"]!, "tenant_id": t])
                return job["id"]!
            }
            let succeeded = try await started("succeeded")
            let task = try await client.call("task.create", ["title": .string("linked"), "tenant_id": t])
            try await client.call("job.link_task", ["job_id": succeeded, "task_id": task["id"]!, "tenant_id": t])
            try await client.call("job.complete", ["job_id": succeeded, "tenant_id": t])
            let failed = try await started("failed")
            try await client.call("job.fail", ["job_id": failed, "tenant_id": t, "error_code": .string("BOOM")])
            let retrying = try await started("retrying", ["retry_policy": .object([
                "max_attempts": .number(3), "initial_backoff_seconds": .number(600), "max_backoff_seconds": .number(600)])])
            try await client.call("job.fail", ["job_id": retrying, "tenant_id": t, "error_code": .string("BOOM")])
            let cancelled = try await started("cancelled")
            try await client.call("job.cancel", ["job_id": cancelled, "tenant_id": t, "mode": .string("hard")])
            let running = try await started("running")

            func exists(_ id: JSONValue) async throws -> Bool {
                do {
                    _ = try await client.call("job.get", ["job_id": id, "tenant_id": t])
                    return true
                } catch let error as DocketError where error.code == .jobNotFound {
                    return false
                }
            }
            _ = try await eventually(.seconds(20)) { () -> Bool? in
                let left = try await (exists(succeeded), exists(failed))
                return !left.0 && !left.1 ? true : nil
            }
            for (id, name) in [(retrying, "waiting for a retry"), (cancelled, "cancelled, kept with off"), (running, "running")] {
                #expect(try await exists(id), "the \(name) job stays")
            }
            let orphans: Int = try await withDatabase(endpoint) { database in
                try await database.read { connection in
                    try await connection.query("""
                        SELECT count(*)::int FROM docket.job_runs WHERE job_id IN (\(UUID(uuidString: succeeded.stringValue ?? "")), \(UUID(uuidString: failed.stringValue ?? "")))
                        """, logger: .init(label: "test")).collect()[0].decode(Int.self)
                }
            }
            #expect(orphans == 0, "their runs went with them")
            let linked = try await client.call("task.get", ["task_id": task["id"]!, "tenant_id": t])
            #expect(linked["id"] == task["id"], "a task linked to a pruned job stays")
        }
    }

    /// A steady load of jobs that succeed at once: with a short age the jobs table levels off instead of growing with
    /// everything ever created.
    @Test func aSteadyLoadKeepsTheJobsTableLevel() async throws {
        try await withDocketd(["--retain-succeeded", "1s"]) { server, endpoint in
            let client = try await server.client()
            defer { Task { await client.close() } }
            let t: JSONValue = .string("t")
            var created = 0
            var samples: [Int] = []
            let started = ContinuousClock.now
            while ContinuousClock.now - started < .seconds(12) {
                for _ in 0..<10 {
                    let job = try await client.call("job.create", ["name": .string("steady"), "tenant_id": t])
                    try await client.call("job.start", ["job_id": job["id"]!, "tenant_id": t])
                    try await client.call("job.complete", ["job_id": job["id"]!, "tenant_id": t])
                    created += 1
                }
                samples.append(try await withDatabase(endpoint) { database in
                    try await database.read { connection in
                        try await connection.query("SELECT count(*)::int FROM docket.jobs", logger: .init(label: "test"))
                            .collect()[0].decode(Int.self)
                    }
                })
            }
            let firstHalf = samples.prefix(samples.count / 2).max() ?? 0, secondHalf = samples.suffix(samples.count / 2).max() ?? 0
            print("retention soak: \(created) jobs created in 12 s; jobs table at most \(firstHalf) in the first half, \(secondHalf) in the second; last \(samples.last ?? 0)")
            #expect(secondHalf < created / 2, "the table holds far fewer rows than were created")
            #expect(Double(secondHalf) <= Double(firstHalf) * 1.5 + 20, "the table levels off rather than growing")
        }
    }
}
