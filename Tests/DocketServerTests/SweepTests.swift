import DocketClient
import DocketCore
import DocketPostgres
import DocketTestSupport
import Foundation
import Testing

/// The leader's sweeps, through a real docketd.
@Suite(.serialized)
struct SweepTests {
    @Test func timeoutsLeasesGraceAndTaskTimeouts() async throws {
        try await withDocketd(["--cancel-grace", "1"]) { server, _ in
            let client = try await server.client()
            let t: JSONValue = .string("t")
            let slow = try await client.call("job.create", ["name": .string("slow"), "tenant_id": t, "timeout_seconds": .number(2)])
            try await client.call("job.start", ["job_id": slow["id"]!, "tenant_id": t])
            // Due at once: the leader's recurrence sweep starts it; being of higher priority than "slow" (also running and
            // held by no worker), it is the one the claim takes.
            let due = try await client.call("job.create", ["name": .string("leased"), "tenant_id": t, "priority": .string("HIGH"),
                                                           "schedule": .object(["kind": .string("once"), "run_at": .string("2020-01-01T00:00:00Z")])])
            _ = try await eventually { () -> Bool? in
                try await client.call("job.get", ["job_id": due["id"]!, "tenant_id": t])["status"] == .string("running") ? true : nil
            }
            let claimed = try await client.call("job.claim", ["tenant_id": t, "lease_seconds": .number(1), "agent": .string("w")])
            let leased = claimed.list.first?["id"] ?? .null
            let graceful = try await client.call("job.create", ["name": .string("graceful"), "tenant_id": t])
            try await client.call("job.start", ["job_id": graceful["id"]!, "tenant_id": t])
            try await client.call("job.cancel", ["job_id": graceful["id"]!, "tenant_id": t, "mode": .string("graceful")])
            let task = try await client.call("task.create", ["title": .string("slow task"), "tenant_id": t, "timeout_seconds": .number(1)])
            try await client.call("task.start", ["task_id": task["id"]!, "tenant_id": t])

            let timedOut = try await eventually { () -> JSONValue? in
                let job = try await client.call("job.get", ["job_id": slow["id"]!, "tenant_id": t])
                return job["status"] == .string("failed") ? job : nil
            }
            #expect(timedOut["error_code"] == .string("TIMEOUT"))
            let history = try await client.call("job.history", ["job_id": slow["id"]!, "tenant_id": t])
            #expect(history.list.first?["status"] == .string("timed_out"))
            let expired = try await eventually { () -> JSONValue? in
                let job = try await client.call("job.get", ["job_id": leased, "tenant_id": t])
                return job["status"] == .string("failed") ? job : nil
            }
            #expect(expired["error_code"] == .string("LEASE_EXPIRED"))
            _ = try await eventually { () -> Bool? in
                try await client.call("job.get", ["job_id": graceful["id"]!, "tenant_id": t])["status"] == .string("cancelled") ? true : nil
            }
            _ = try await eventually { () -> Bool? in
                try await client.call("task.get", ["task_id": task["id"]!, "tenant_id": t])["status"] == .string("pending") ? true : nil
            }
            let status = try await client.call("cluster.status")
            #expect(status["sweeps"]?["timeouts"]?["total_changed"].map { if case .number(let n) = $0 { n >= 4 } else { false } } == true)
            await client.close()
        }
    }

    @Test func retriesBackOffAndStopAtMaxAttempts() async throws {
        try await withDocketd { server, _ in
            let client = try await server.client()
            let t: JSONValue = .string("t")
            let job = try await client.call("job.create", ["name": .string("flaky"), "tenant_id": t, "retry_policy": .object([
                "max_attempts": .number(3), "initial_backoff_seconds": .number(0.3), "max_backoff_seconds": .number(1), "jitter": .number(0)])])
            let id = job["id"]!
            try await client.call("job.start", ["job_id": id, "tenant_id": t])
            for attempt in 1...3 {
                _ = try await eventually { () -> Bool? in
                    let current = try await client.call("job.get", ["job_id": id, "tenant_id": t])
                    return current["status"] == .string("running") && current["attempt"] == .number(Double(attempt)) ? true : nil
                }
                try await client.call("job.fail", ["job_id": id, "tenant_id": t, "error_code": .string("BOOM")])
            }
            try await Task.sleep(for: .seconds(2))  // models time: two backoffs more, and no fourth attempt
            let final = try await client.call("job.get", ["job_id": id, "tenant_id": t])
            #expect(final["status"] == .string("failed"), "no fourth attempt")
            #expect(final["attempt"] == .number(3))
            let runs = try await client.call("job.history", ["job_id": id, "tenant_id": t]).list
            #expect(runs.map { $0["attempt"] } == [.number(1), .number(2), .number(3)])
            await client.close()
        }
    }

    @Test func aDueOneTimeJobWithAKindWaitsForAClaim() async throws {
        try await withDocketd { server, _ in
            let client = try await server.client()
            defer { Task { await client.close() } }
            let t: JSONValue = .string("t")
            let due: JSONValue = .object(["kind": .string("once"), "run_at": .string("2020-01-01T00:00:00Z")])
            func status(_ id: JSONValue) async throws -> JSONValue? { try await client.call("job.get", ["job_id": id, "tenant_id": t])["status"] }
            let worker = try await client.call("job.create", ["name": .string("worker-job"), "tenant_id": t, "kind": .string("mail"),
                                                              "schedule": due])["id"]!
            let recurring = try await client.call("job.create", ["name": .string("nightly"), "tenant_id": t, "kind": .string("mail"),
                "schedule": .object(["kind": .string("interval"), "every_seconds": .number(3600),
                                     "start_at": .string(Timestamp.format(Date().addingTimeInterval(1)))])])["id"]!
            let plain = try await client.call("job.create", ["name": .string("plain"), "tenant_id": t, "schedule": due])["id"]!
            // The sweep starts the job without a kind and the recurring one; the pass that did so passed the worker job by.
            _ = try await eventually { () -> Bool? in
                let started = [try await status(plain), try await status(recurring)]
                return started.allSatisfy { $0 == .string("running") } ? true : nil
            }
            #expect(try await status(worker) == .string("scheduled"), "a worker job is not started by the leader")
            let claimed = try await client.call("job.claim", ["tenant_id": t, "kinds": .array([.string("mail")]), "limit": .number(10),
                                                              "agent": .string("w")]).list
            #expect(Set(claimed.compactMap { $0["name"]?.stringValue }) == ["worker-job", "nightly"], "claimed straight from scheduled")
            let job = try await client.call("job.get", ["job_id": worker, "tenant_id": t])
            #expect(job["status"] == .string("running") && job["claimed_by"] == .string("w") && job["attempt"] == .number(1))
        }
    }

    @Test func intervalSchedulesFireEachSlotOnce() async throws {
        try await withDocketd { server, endpoint in
            let client = try await server.client()
            let t: JSONValue = .string("t")
            let start = Timestamp.format(Date().addingTimeInterval(1))
            var ids: [JSONValue] = []
            for index in 0..<5 {
                let job = try await client.call("job.create", ["name": .string("tick-\(index)"), "tenant_id": t, "schedule": .object([
                    "kind": .string("interval"), "every_seconds": .number(1), "start_at": .string(start), "misfire": .string("skip")])])
                ids.append(job["id"]!)
            }
            // A worker: claim whatever the recurrence sweep started and complete it at once, for six seconds.
            let deadline = ContinuousClock.now + .seconds(6)
            while ContinuousClock.now < deadline {
                let claimed = try await client.call("job.claim", ["tenant_id": t, "limit": .number(10)])
                for job in claimed.list { try await client.call("job.complete", ["job_id": job["id"]!, "tenant_id": t]) }
                try await Task.sleep(for: .milliseconds(50))  // models time: a worker that polls every 50 ms
            }
            let (runs, duplicates) = try await withDatabase(endpoint) { database in
                try await database.read { connection in
                    try await connection.query("""
                        SELECT count(*)::int,
                               (SELECT count(*)::int FROM (SELECT job_id, scheduled_for FROM docket.job_runs
                                 GROUP BY 1, 2 HAVING count(*) > 1) d)
                        FROM docket.job_runs
                        """, logger: database.logger).collect().first!.decode((Int, Int).self)
                }
            }
            print("recurrence figures: \(runs) runs of 5 one-second schedules in 6 s, \(duplicates) duplicate slots")
            #expect(duplicates == 0)
            #expect(runs >= 15, "about five slots each")
            for id in ids {
                let job = try await client.call("job.get", ["job_id": id, "tenant_id": t])
                #expect(job["status"] == .string("scheduled") || job["status"] == .string("running"))
            }
            await client.close()
        }
    }
}

extension JSONValue {
    /// An array's elements, or a page's `items`.
    var list: [JSONValue] {
        if case .array(let items) = self { return items }
        if case .array(let items)? = self["items"] { return items }
        return []
    }
}
