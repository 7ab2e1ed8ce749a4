import DocketClient
import DocketCore
import DocketPostgres
import DocketServices
import DocketTestSupport
import Foundation
import Testing

extension QueueSuites {
    /// Queue settings and their limits over the wire, against one real docketd: pause, concurrency, rate limit.
    @Suite struct QueueLimitTests {
        let t: JSONValue = .string("t")

        func job(_ client: DocketClient, _ name: String, queue: String, schedule: JSONValue? = nil) async throws -> JSONValue {
            var args: [String: JSONValue] = ["name": .string(name), "tenant_id": t, "queue": .string(queue)]
            if let schedule { args["schedule"] = schedule }
            return try await client.call("job.create", args)["id"]!
        }

        @Test func settingsAreStoredListedAndEvented() async throws {
            try await withDocketd { server, _ in
                let client = try await server.client()
                defer { Task { await client.close() } }
                _ = try await job(client, "a", queue: "mail")
                let defaults = try await client.call("queue.get", ["queue": .string("mail"), "tenant_id": t])
                #expect(defaults["concurrency"] == .null && defaults["rate_limit"] == .null && defaults["paused"] == .bool(false))
                #expect(defaults["weight"] == .number(1) && defaults["counts"]?["available"] == .number(0))
                let updated = try await client.call("queue.update", ["queue": .string("mail"), "tenant_id": t, "concurrency": .number(5),
                                                                      "rate_limit": .object(["count": .number(10), "per_seconds": .number(1)]),
                                                                      "weight": .number(3)])
                #expect(updated["concurrency"] == .number(5) && updated["weight"] == .number(3))
                #expect(updated["rate_limit"] == .object(["count": .number(10), "per_seconds": .number(1)]))
                let cleared = try await client.call("queue.update", ["queue": .string("mail"), "tenant_id": t, "rate_limit": .null])
                #expect(cleared["rate_limit"] == .null && cleared["concurrency"] == .number(5), "null clears only that limit")
                _ = try await client.call("queue.pause", ["queue": .string("sms"), "tenant_id": t])
                let names = try await client.call("queue.list", ["tenant_id": t])["queues"]?.list.compactMap { $0["queue"]?.stringValue }
                #expect(names == ["mail", "sms"], "queues with jobs and queues with settings, by name")
                let topics = try await eventually { () async throws -> [String]? in
                    let events = try await client.call("events.list", ["topics": .array([.string("queue.*")]), "tenant_id": t])["events"]?.list ?? []
                    return events.count >= 3 ? events.compactMap { $0["topic"]?.stringValue } : nil
                }
                #expect(topics == ["queue.updated", "queue.updated", "queue.paused"])
            }
        }

        @Test func badSettingsAreRefusedAndChangeNothing() async throws {
            try await withDocketd { server, endpoint in
                let client = try await server.client()
                defer { Task { await client.close() } }
                let refused: [([String: JSONValue], String)] = [
                    (["queue": .string("Mail")], "queue"),
                    (["queue": .string("mail"), "concurrency": .number(0)], "concurrency"),
                    (["queue": .string("mail"), "concurrency": .number(-3)], "concurrency"),
                    (["queue": .string("mail"), "weight": .number(0)], "weight"),
                    (["queue": .string("mail"), "rate_limit": .object(["count": .number(5)])], "rate_limit"),
                    (["queue": .string("mail"), "rate_limit": .object(["count": .number(5), "per_seconds": .number(1), "burst": .number(2)])], "rate_limit"),
                    (["queue": .string("mail"), "rate_limit": .number(5)], "rate_limit"),
                    (["queue": .string("mail"), "paused": .bool(true)], "paused"),
                    ([:], "queue"),
                ]
                for (fields, field) in refused {
                    var args = fields
                    args["tenant_id"] = t
                    let error = await refusal { try await client.call("queue.update", args) }
                    #expect(error?.code == .validationError, "\(fields)")
                    #expect(error?.details["field"] == .string(field), "\(fields): \(String(describing: error))")
                }
                #expect(try await client.call("queue.list", ["tenant_id": t])["queues"]?.list.isEmpty == true, "nothing was stored")

                // Another tenant's queue: a confined actor cannot reach it.
                let token = try await withDatabase(endpoint) { database in
                    try await APIKeyService(database: database).create(for: Principal(id: "b", type: .user, tenantId: "other", scopes: [.jobAdmin])).token
                }
                let other = try await server.client(token: token)
                defer { Task { await other.close() } }
                let crossing = await refusal { try await other.call("queue.pause", ["queue": .string("mail"), "tenant_id": t]) }
                #expect(crossing?.code == .permissionDenied)
                let reader = await refusal { try await other.call("queue.get", ["queue": .string("mail"), "tenant_id": t]) }
                #expect(reader?.code == .permissionDenied)
            }
        }

        @Test func aPausedQueueStartsNothingUntilResumed() async throws {
            try await withDocketd { server, _ in
                let client = try await server.client()
                defer { Task { await client.close() } }
                _ = try await client.call("queue.pause", ["queue": .string("held"), "tenant_id": t])
                let held = try await job(client, "held-1", queue: "held")
                let error = await refusal { try await client.call("job.start", ["job_id": held, "tenant_id": t]) }
                #expect(error?.code == .rateLimited && error?.details["limit"] == .string("paused") && error?.details["queue"] == .string("held"))
                #expect(try await client.call("job.get", ["job_id": held, "tenant_id": t])["status"] == .string("draft"), "refused: unchanged")

                // Due jobs in the paused queue and in another: the sweep and claims start only the other's.
                let due: JSONValue = .object(["kind": .string("once"), "run_at": .string("2020-01-01T00:00:00Z")])
                let heldDue = try await job(client, "held-due", queue: "held", schedule: due)
                let free = try await job(client, "free-due", queue: "free", schedule: due)
                _ = try await eventually { () async throws -> Bool? in
                    try await client.call("job.get", ["job_id": free, "tenant_id": t])["status"] == .string("running") ? true : nil
                }
                let claimed = try await client.call("job.claim", ["tenant_id": t, "limit": .number(10)]).list.compactMap { $0["name"]?.stringValue }
                #expect(claimed == ["free-due"], "a claim returns others' jobs")
                #expect(try await client.call("job.get", ["job_id": heldDue, "tenant_id": t])["status"] == .string("scheduled"))

                _ = try await client.call("queue.resume", ["queue": .string("held"), "tenant_id": t])
                _ = try await eventually { () async throws -> Bool? in
                    try await client.call("job.get", ["job_id": heldDue, "tenant_id": t])["status"] == .string("running") ? true : nil
                }
                #expect(try await client.call("job.start", ["job_id": held, "tenant_id": t])["status"] == .string("running"), "drains on resume")
            }
        }

        @Test func concurrencyIsNeverExceeded() async throws {
            try await withDocketd { server, endpoint in
                let client = try await server.client()
                defer { Task { await client.close() } }
                _ = try await client.call("queue.update", ["queue": .string("narrow"), "tenant_id": t, "concurrency": .number(2)])
                var ids: [JSONValue] = []
                for index in 0..<3 { ids.append(try await job(client, "n\(index)", queue: "narrow")) }
                try await client.call("job.start", ["job_id": ids[0], "tenant_id": t])
                try await client.call("job.start", ["job_id": ids[1], "tenant_id": t])
                let error = await refusal { try await client.call("job.start", ["job_id": ids[2], "tenant_id": t]) }
                #expect(error?.code == .rateLimited && error?.details["limit"] == .string("concurrency"))
                #expect(error?.details["concurrency"] == .number(2))
                try await client.call("job.complete", ["job_id": ids[0], "tenant_id": t])
                #expect(try await client.call("job.start", ["job_id": ids[2], "tenant_id": t])["status"] == .string("running"), "room freed")

                // Twenty due jobs in a queue of concurrency 3, started by the sweep and claimed by eight claimers at once:
                // at no sample are more than three running, and all of them run.
                _ = try await client.call("queue.update", ["queue": .string("three"), "tenant_id": t, "concurrency": .number(3)])
                let due: JSONValue = .object(["kind": .string("once"), "run_at": .string("2020-01-01T00:00:00Z")])
                for index in 0..<20 { _ = try await job(client, "d\(index)", queue: "three", schedule: due) }
                let done = try await withThrowingTaskGroup(of: Int.self) { group in
                    for _ in 0..<8 {
                        group.addTask {
                            let worker = try await server.client()
                            defer { Task { await worker.close() } }
                            var finished = 0
                            let deadline = ContinuousClock.now + .seconds(40)
                            while ContinuousClock.now < deadline {
                                let jobs = try await worker.call("job.claim", ["tenant_id": .string("t"), "queues": .array([.string("three")]),
                                                                               "limit": .number(5)]).list
                                for claimed in jobs {
                                    try await worker.call("job.complete", ["job_id": claimed["id"]!, "tenant_id": .string("t")])
                                    finished += 1
                                }
                                let left = try await worker.call("queue.get", ["queue": .string("three"), "tenant_id": .string("t")])["counts"]
                                if left?["available"] == .number(0), left?["running"] == .number(0), left?["scheduled"] == .number(0) {
                                    let open = try await worker.call("job.list", ["tenant_id": .string("t"), "queue": .string("three"),
                                                                                  "status": .string("scheduled")]).list
                                    if open.isEmpty { break }
                                }
                                try await Task.sleep(for: .milliseconds(20))  // models time: a worker polling every 20 ms
                            }
                            return finished
                        }
                    }
                    group.addTask {
                        // The sampler: the queue's running jobs, read from PostgreSQL every 20 ms.
                        try await withDatabase(endpoint) { database in
                            var peak = 0
                            let deadline = ContinuousClock.now + .seconds(40)
                            while ContinuousClock.now < deadline {
                                let (running, succeeded) = try await database.read { connection in
                                    try await connection.query("""
                                        SELECT count(*) FILTER (WHERE status = 'running')::int, count(*) FILTER (WHERE status = 'succeeded')::int
                                        FROM docket.jobs WHERE queue = 'three'
                                        """, logger: database.logger).collect().first!.decode((Int, Int).self)
                                }
                                peak = max(peak, running)
                                if succeeded == 20 { break }
                                try await Task.sleep(for: .milliseconds(20))  // models time: a sample every 20 ms
                            }
                            return -peak
                        }
                    }
                    var finished = 0, peak = 0
                    for try await value in group { if value < 0 { peak = -value } else { finished += value } }
                    return (finished, peak)
                }
                #expect(done.0 == 20, "every job ran exactly once")
                #expect(done.1 <= 3 && done.1 >= 1, "running never above the limit: peak \(done.1)")
            }
        }

        @Test func aRateLimitBoundsStartsPerWindow() async throws {
            try await withDocketd { server, _ in
                let client = try await server.client()
                defer { Task { await client.close() } }
                // A window long enough that a loaded machine cannot outlast it between the starts.
                _ = try await client.call("queue.update", ["queue": .string("api"), "tenant_id": t,
                                                            "rate_limit": .object(["count": .number(3), "per_seconds": .number(60)])])
                var ids: [JSONValue] = []
                for index in 0..<4 { ids.append(try await job(client, "r\(index)", queue: "api")) }
                for id in ids.prefix(3) { try await client.call("job.start", ["job_id": id, "tenant_id": t]) }
                let error = await refusal { try await client.call("job.start", ["job_id": ids[3], "tenant_id": t]) }
                #expect(error?.code == .rateLimited && error?.details["limit"] == .string("rate_limit"))
                #expect(error?.details["rate_limit"] == .object(["count": .number(3), "per_seconds": .number(60)]))
                #expect(try await client.call("job.get", ["job_id": ids[3], "tenant_id": t])["status"] == .string("draft"))

                // Once the window has passed, the queue starts again.
                _ = try await client.call("queue.update", ["queue": .string("api"), "tenant_id": t,
                                                            "rate_limit": .object(["count": .number(3), "per_seconds": .number(1)])])
                try await Task.sleep(for: .milliseconds(1100))  // models time: the one-second window passes
                #expect(try await client.call("job.start", ["job_id": ids[3], "tenant_id": t])["status"] == .string("running"))
            }
        }
    }

    /// Fair share: one claim over several queues (or a system worker's over tenants) splits by weight while all have
    /// work, and gives everything to whoever has work when the others have none. Claims of four jobs make the split exact
    /// (whole shares); how single-job claims converge to the weights is `FairShareTests`' to show.
    @Suite struct FairShareClaimTests {
        func backlog(_ client: DocketClient, tenant: String, queue: String, count: Int) async throws {
            var jobs: [JSONValue] = []
            for index in 0..<count { jobs.append(.object(["name": .string("\(queue)-\(index)"), "queue": .string(queue)])) }
            let ids = try await client.call("job.create_many", ["tenant_id": .string(tenant), "jobs": .array(jobs)])["jobs"]?.list ?? []
            // Started and held by no worker: claimable at once.
            for job in ids { try await client.call("job.start", ["job_id": job["id"]!, "tenant_id": .string(tenant)]) }
        }

        /// Claims four jobs at a time `count` times and counts them by `key`.
        func claim(_ client: DocketClient, _ args: [String: JSONValue], times count: Int, key: String) async throws -> [String: Int] {
            var seen: [String: Int] = [:]
            for _ in 0..<count {
                var request = args
                request["limit"] = .number(4)
                for job in try await client.call("job.claim", request).list {
                    seen[job[key]?.stringValue ?? "?", default: 0] += 1
                }
            }
            return seen
        }

        @Test func weightsSplitClaimsAndIdleQueuesGiveWay() async throws {
            try await withDocketd { server, _ in
                let client = try await server.client()
                defer { Task { await client.close() } }
                let t: JSONValue = .string("t")
                _ = try await client.call("queue.update", ["queue": .string("heavy"), "tenant_id": t, "weight": .number(3)])
                try await backlog(client, tenant: "t", queue: "heavy", count: 240)
                try await backlog(client, tenant: "t", queue: "light", count: 240)
                let split = try await claim(client, ["tenant_id": t], times: 80, key: "queue")
                print("fair-share figures: heavy \(split["heavy"] ?? 0), light \(split["light"] ?? 0) of 80 claims of 4")
                #expect(split == ["heavy": 240, "light": 80], "75/25 by weight while both have work")
                // The heavy queue is empty now: the light one gets every slot.
                let rest = try await claim(client, ["tenant_id": t], times: 40, key: "queue")
                #expect(rest == ["light": 160], "work-conserving: \(rest)")
            }
        }

        @Test func aSystemWorkerSharesAcrossTenants() async throws {
            try await withDocketd { server, _ in
                let client = try await server.client()
                defer { Task { await client.close() } }
                _ = try await client.call("queue.update", ["queue": .string("default"), "tenant_id": .string("big"), "weight": .number(3)])
                try await backlog(client, tenant: "big", queue: "default", count: 150)
                try await backlog(client, tenant: "small", queue: "default", count: 150)
                // The admin key is a system actor: no tenant named, every tenant's queues.
                let split = try await claim(client, [:], times: 50, key: "tenant_id")
                #expect(split == ["big": 150, "small": 50], "by the tenants' queue weights: \(split)")
            }
        }
    }

    /// Operators' view of queues: `docket queues …`, `docket.queue_overview`, and the per-queue metrics.
    @Suite struct QueueOperatorTests {
        func docket(_ arguments: [String]) async throws -> Command.Output {
            try await Command(executable: try PackagePaths.docket, arguments: arguments).runAsync()
        }

        @Test func theCommandLineTheViewAndTheMetricsShowQueues() async throws {
            try await withDocketd { server, endpoint in
                let address = ["--address", "127.0.0.1:\(server.port)", "--token", server.token, "--tenant", "t"]
                let client = try await server.client()
                defer { Task { await client.close() } }
                for index in 0..<3 {
                    let job = try await client.call("job.create", ["name": .string("m\(index)"), "tenant_id": .string("t"), "queue": .string("mail")])
                    if index < 2 { try await client.call("job.start", ["job_id": job["id"]!, "tenant_id": .string("t")]) }
                }
                let set = try await docket(["queues", "set", "mail", "--concurrency", "2", "--rate-limit", "10/1", "--weight", "2"] + address)
                #expect(set.status == 0, "\(set.text)")
                #expect(set.text.contains("10/1s"))
                let paused = try await docket(["queues", "pause", "mail"] + address)
                #expect(paused.status == 0 && paused.text.contains("paused"))
                let listed = try await docket(["queues", "list"] + address)
                #expect(listed.status == 0 && listed.text.contains("QUEUE") && listed.text.contains("mail"), "\(listed.text)")
                let shown = try await docket(["queues", "show", "mail", "--json"] + address)
                let line = shown.text.split(separator: "\n").last { $0.hasPrefix("{") }.map(String.init) ?? ""
                let queue = try JSONDecoder().decode(JSONValue.self, from: Data(line.utf8))
                #expect(queue["paused"] == .bool(true) && queue["concurrency"] == .number(2) && queue["weight"] == .number(2))
                #expect(queue["counts"]?["running"] == .number(2) && queue["counts"]?["available"] == .number(2), "\(queue)")
                let bad = try await docket(["queues", "set", "mail", "--rate-limit", "ten"] + address)
                #expect(bad.status != 0)
                _ = try await docket(["queues", "resume", "mail"] + address)

                // A DBA sees the same in SQL.
                let row = try await withDatabase(endpoint) { database in
                    try await database.read { connection in
                        try await connection.query("""
                            SELECT paused, concurrency, running, available FROM docket.queue_overview WHERE tenant_id = 't' AND queue = 'mail'
                            """, logger: database.logger).collect().first?.decode((Bool, Int32?, Int32, Int32).self)
                    }
                }
                #expect(row?.0 == false && row?.1 == 2 && row?.2 == 2 && row?.3 == 2)

                // A refused start is counted, and the queue's gauges are in /metrics.
                let third = try await client.call("job.list", ["tenant_id": .string("t"), "status": .string("draft")]).list.first!["id"]!
                await #expect(throws: DocketError.self) { try await client.call("job.start", ["job_id": third, "tenant_id": .string("t")]) }
                // A claim from the limited queue is a transaction; one from a tenant without queue settings, one statement.
                _ = try await client.call("job.claim", ["tenant_id": .string("t"), "queues": .array([.string("mail")])])
                _ = try await client.call("job.claim", ["tenant_id": .string("plain-tenant")])
                let (status, metrics) = try HTTP.get(port: server.httpPort, path: "/metrics")
                #expect(status == 200)
                func claims(_ path: String) -> Double? {
                    let prefix = #"docket_claims_total{path=""# + path + #""} "#
                    return metrics.split(separator: "\n").first { $0.hasPrefix(prefix) }.flatMap { Double($0.dropFirst(prefix.count)) }
                }
                #expect((claims("statement") ?? 0) >= 1 && (claims("transaction") ?? 0) >= 1, "claims by path")
                #expect(metrics.contains(#"docket_queue_running{tenant="t",queue="mail"} 2"#) || metrics.contains(#"docket_queue_running{queue="mail",tenant="t"} 2"#),
                        "the running gauge")
                #expect(metrics.contains("docket_queue_available"), "the available gauge")
                #expect(metrics.contains("docket_queue_oldest_available_seconds"), "the oldest available age")
                #expect(metrics.contains("docket_queue_starts_refused_total") && metrics.contains(#"limit="concurrency""#), "refused starts")
            }
        }
    }
}
