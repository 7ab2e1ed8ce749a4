import DocketClient
import DocketCore
import DocketPostgres
import DocketTestSupport
import Foundation
import Testing

/// The `docket` CLI against a real docketd.
struct CLITests {
    func docket(_ arguments: [String]) async throws -> Command.Output {
        try await Command(executable: try PackagePaths.docket, arguments: arguments).runAsync()
    }

    @Test func keysJobsTasksAndBudgetsFromTheCommandLine() async throws {
        try await withDocketd { server, endpoint in
            let created = try await docket(["keys", "create", "--database-url", endpoint.url, "--actor", "ops", "--type", "user",
                                             "--tenant", "t", "--scopes", "job:admin,task:admin", "--json"])
            #expect(created.status == 0, "\(created.text)")
            #expect(!created.text.contains("hasn't been called"), "no PostgresNIO warning above the key: \(created.text)")
            // Standard error is captured too: take the JSON line.
            let jsonLine = created.text.split(separator: "\n").last { $0.hasPrefix("{") }.map(String.init) ?? created.text
            let key = try JSONDecoder().decode(JSONValue.self, from: Data(jsonLine.utf8))
            guard case .string(let token)? = key.objectValue?["token"], case .string(let keyId)? = key.objectValue?["id"] else {
                Issue.record("no token in \(created.text)")
                return
            }
            let listed = try await docket(["keys", "list", "--database-url", endpoint.url])
            #expect(listed.text.contains(keyId))
            #expect(!listed.text.contains(token), "secrets are never listed")

            let address = ["--address", "127.0.0.1:\(server.port)", "--token", token]
            let client = try await server.client(token: token)
            let job = try await client.call("job.create", ["name": .string("from-cli-test")])
            guard case .string(let jobId)? = job.objectValue?["id"] else { return }
            _ = try await client.call("task.create", ["title": .string("a task")])
            await client.close()

            let jobs = try await docket(["jobs", "list"] + address)
            #expect(jobs.status == 0)
            #expect(jobs.text.contains("from-cli-test") && jobs.text.contains("NAME"))
            let shown = try await docket(["jobs", "show", jobId, "--json"] + address)
            #expect(shown.text.contains("\"status\":\"draft\""))
            #expect(try await docket(["jobs", "cancel", jobId, "--hard"] + address).text.contains("Cancelled job"))
            #expect(try await docket(["jobs", "retry", jobId] + address).text.contains("attempt 1"))
            let history = try await docket(["jobs", "history", jobId] + address)
            #expect(history.text.contains("RUN_NUMBER") && history.text.contains("running"))
            #expect(try await docket(["tasks", "list"] + address).text.contains("a task"))

            let refused = try await docket(["budget", "set", "--limit", "10.00", "--period", "day"] + address)
            #expect(refused.status == 1, "job:admin is not cluster:admin")
            #expect(refused.text.contains("PERMISSION_DENIED"))
            let admin = ["--address", "127.0.0.1:\(server.port)", "--token", server.token, "--tenant", "t"]
            #expect(try await docket(["budget", "set", "--limit", "10.00", "--period", "day"] + admin).status == 0)
            #expect(try await docket(["budget", "show"] + admin).text.contains("10.00"))

            let missing = try await docket(["jobs", "show", UUID().uuidString] + address)
            #expect(missing.status == 1)
            #expect(missing.text.contains("JOB_NOT_FOUND"))
            #expect(try await docket(["jobs", "frobnicate"]).status == 2)
            #expect(try await docket(["keys", "revoke", keyId, "--database-url", endpoint.url]).status == 0)
            let revoked = try await docket(["jobs", "list"] + address)
            #expect(revoked.status == 1)
            #expect(revoked.text.contains("UNAUTHENTICATED"))
        }
    }

    /// The README's quick start: a worker runs, `docket jobs create --wait` creates a job and prints it completed.
    @Test func jobsCreateWaitsUntilAWorkerCompletesTheJob() async throws {
        try await withDocketd { server, _ in
            let address = ["--address", "127.0.0.1:\(server.port)", "--token", server.token, "--tenant", "demo"]
            let worker = try Command(executable: try PackagePaths.exampleWorker, arguments: address + ["--kinds", "hello"]).start()
            defer { worker.signal(SIGKILL) }
            _ = try await worker.waitForLine { $0.hasPrefix("worker ") && $0.contains("ready") }

            let done = try await docket(["jobs", "create", "--kind", "hello", "--args", "{\"n\": 7}", "--wait", "--json"] + address)
            #expect(done.status == 0, "\(done.text)")
            let line = done.text.split(separator: "\n").last { $0.hasPrefix("{") }.map(String.init) ?? ""
            let job = try JSONDecoder().decode(JSONValue.self, from: Data(line.utf8))
            #expect(job["status"] == "succeeded" && job["output"]?["runtime"] == "swift" && job["output"]?["n"] == 7, "\(done.text)")

            let later = try await docket(["jobs", "create", "--kind", "hello", "--in", "3600"] + address)
            #expect(later.status == 0 && later.text.contains("scheduled"), "\(later.text)")
            let bad = try await docket(["jobs", "create", "--kind", "hello", "--args", "[1]"] + address)
            #expect(bad.status != 0 && bad.text.contains("--args must be a JSON object"), "\(bad.text)")
            let unknown = try await docket(["jobs", "create", "--kind", "nobody-runs-this", "--wait", "--timeout", "1"] + address)
            #expect(unknown.status == 1 && unknown.text.contains("UNAVAILABLE"), "\(unknown.text)")

            worker.signal(SIGTERM)
            #expect(try await worker.wait(timeout: .seconds(20)) == 0, "the worker drains and exits on SIGTERM")
        }
    }

    /// The embedded PostgreSQL stops with the last docketd that used it, unless `docket db start` started it.
    @Test func theEmbeddedServerStopsWithTheLastDocketdUnlessStartedOnPurpose() async throws {
        let folder = "/tmp/docket-embedded-users-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
        defer {
            _ = try? EmbeddedPostgres(dataDirectory: folder).stopBlocking()
            try? FileManager.default.removeItem(atPath: folder)
        }
        func docketd() async throws -> RunningCommand {
            let process = try Command(executable: try PackagePaths.docketd, arguments: [
                "--listen", "127.0.0.1:0", "--http", "127.0.0.1:0", "--data-dir", folder, "--log-level", "warning",
            ]).start()
            _ = try await process.waitForLine(timeout: .seconds(120)) { $0.hasPrefix("docketd listening on ") }
            return process
        }
        func running() throws -> Bool {
            if case .running = try EmbeddedPostgres(dataDirectory: folder).state() { return true }
            return false
        }

        let first = try await docketd(), second = try await docketd()
        #expect(try running())
        first.signal(SIGTERM)
        #expect(try await first.wait(timeout: .seconds(30)) == 0)
        #expect(try running(), "another docketd still uses it")
        second.signal(SIGINT)
        #expect(try await second.wait(timeout: .seconds(30)) == 0)
        #expect(try !running(), "the last docketd stopped it")

        #expect(try await docket(["db", "start", "--data-dir", folder]).status == 0)
        let third = try await docketd()
        third.signal(SIGTERM)
        #expect(try await third.wait(timeout: .seconds(30)) == 0)
        #expect(try running(), "started by docket db start: it keeps running")
        #expect(try await docket(["db", "stop", "--data-dir", folder]).status == 0)
        #expect(try !running())
    }

    @Test func eventsTailFollowsAndEventsListPages() async throws {
        try await withDocketd { server, _ in
            let address = ["--address", "127.0.0.1:\(server.port)", "--token", server.token, "--tenant", "t"]
            let tail = try Command(executable: try PackagePaths.docket, arguments: ["events", "tail", "--topics", "job.created",
                                                                             "--count", "2", "--json"] + address).start()
            let client = try await server.client()
            defer { Task { await client.close() } }
            // The subscription is in place once the tail has connected; retry the creates until it reports both.
            var created: [String] = []
            let clock = ContinuousClock()
            let started = clock.now
            while clock.now - started < .seconds(15), (try? await tail.wait(timeout: .milliseconds(300))) == nil {
                let job = try await client.call("job.create", ["name": .string("tailed"), "tenant_id": .string("t")])
                if case .string(let id)? = job["id"] { created.append(id) }
            }
            let status = try await tail.wait(timeout: .seconds(1))
            #expect(status == 0, "\(tail.output)")
            let lines = tail.output.filter { $0.hasPrefix("{") }
            #expect(lines.count == 2)
            #expect(lines.allSatisfy { $0.contains("\"topic\":\"job.created\"") })
            #expect(lines.allSatisfy { line in created.contains { line.contains($0) } })

            let listed = try await docket(["events", "list", "--topics", "job.created", "--limit", "1"] + address)
            #expect(listed.status == 0)
            #expect(listed.text.contains("job.created"))
            #expect(listed.text.contains("next: --after-seq"))
            let refused = try await docket(["events", "list", "--topics", "nonsense"] + address)
            #expect(refused.status != 0)
            #expect(refused.text.contains("VALIDATION_ERROR") || refused.text.contains("not a topic"))
        }
    }
}
