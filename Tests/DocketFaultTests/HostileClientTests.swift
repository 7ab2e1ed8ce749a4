import DocketClient
import DocketCore
import DocketPostgres
import DocketTestSupport
import Foundation
import Synchronization
import Testing

/// The hostile-client reproductions of the outages issue, against a real docketd: each sends what the issue's
/// attacker sent and checks the answer a user must get instead.
@Suite(.serialized)
struct HostileClientTests {
    /// A request line with `args`.
    static func line(_ id: Int, _ op: String, _ args: String) -> String { "{\"id\":\(id),\"op\":\"\(op)\",\"args\":\(args)}\n" }

    @Test func unreadRepliesAreBoundedInBytesNotLines() async throws {
        try await withDocketd { server, _ in
            let client = try await server.client()
            // Past the metadata limit: refused by field, nothing stored.
            let huge = String(repeating: "x", count: 100_000)
            do {
                try await client.call("job.create", ["name": .string("big"), "tenant_id": .string("t"), "metadata": .object(["blob": .string(huge)])])
                Issue.record("a 100 KB metadata must be refused")
            } catch let error as DocketError {
                #expect(error.code == .validationError)
                #expect(error.details["field"] == .string("metadata"))
            }
            // A job just under the limit, fetched 3,000 times by a client that never reads its answers.
            let job = try await client.call("job.create", ["name": .string("near the limit"), "tenant_id": .string("t"),
                                                           "metadata": .object(["blob": .string(String(repeating: "y", count: 60_000))])])
            let jobId = job["id"]?.stringValue ?? ""
            let before = server.residentMegabytes
            let reader = try server.raw(receiveBuffer: 4096)
            let flood = Task.detached {
                var batch = ""
                for id in 1...3000 {
                    batch += Self.line(id, "job.get", "{\"job_id\":\"\(jobId)\",\"tenant_id\":\"t\"}")
                    if batch.utf8.count > 32_000 { reader.send(batch); batch = "" }
                }
                reader.send(batch)
            }
            // While that connection is stalled, another client is served.
            let other = try await server.client()
            for _ in 0..<20 { try await other.call("ping") }
            // The server stopped reading the flooding connection: its memory stays near where it was (3,000 answers
            // of ~60 KB would be 180 MB).
            let during = try await eventually(.seconds(10)) { () -> Int? in
                let now = server.residentMegabytes
                try await Task.sleep(for: .milliseconds(500))  // models time: two samples half a second apart agree: it has settled
                return abs(server.residentMegabytes - now) <= 2 ? server.residentMegabytes : nil
            }
            print("unread replies: RSS \(before) MB before, \(during) MB while 3,000 answers of 60 KB were unread")
            #expect(during - before < 80, "buffered answers are bounded in bytes")
            reader.reset()
            _ = await flood.result
            for _ in 0..<20 { try await other.call("ping") }
            await other.close()
            await client.close()
        }
    }

    @Test func workOfResetConnectionsIsCancelled() async throws {
        try await withDocketd(["--pool-size", "4"]) { server, endpoint in
            _ = try await withDatabase(endpoint) { database in
                try await database.transaction { connection in
                    try await connection.query("""
                        INSERT INTO docket.jobs (id, tenant_id, name, status, created_by)
                        SELECT gen_random_uuid(), 't', 'seed-' || n, 'draft', 'seed' FROM generate_series(1, 3000) AS n
                        """, logger: database.logger)
                }
            }
            // 1,000 × (connect, auth, job.list of 100, reset), as fast as one thread can.
            let clock = ContinuousClock()
            let began = clock.now
            for id in 0..<1000 {
                guard let raw = try? RawConnection(port: server.port) else { continue }
                raw.send(Self.line(1, "auth", "{\"token\":\"\(server.token)\"}") + Self.line(2, "job.list", "{\"tenant_id\":\"t\",\"limit\":100,\"order\":\"desc\"}"))
                if id % 50 == 0 { _ = raw.line() }  // now and then wait for the auth, so lists really are queued
                raw.reset()
            }
            let burst = clock.now - began
            // A new client authenticates and is served promptly: the abandoned lists did not keep the pool busy.
            let afterBurst = clock.now
            let fresh = try server.raw(timeoutSeconds: 10)
            fresh.send(Self.line(9, "ping", "{}"))
            #expect(try fresh.json()["ok"] == .bool(true))
            let served = clock.now - afterBurst
            let completed = try server.metric("docket_requests_total{op=\"job.list\"}") ?? 0
            print("reset connections: burst \(burst), a new client authenticated and answered after \(served); \(Int(completed)) of 1,000 lists counted")
            #expect(served < .seconds(10), "a new client is not locked out by abandoned work")
            // No connection, pool slot or waiting request is left behind.
            let settled = try await eventually(.seconds(15)) { () -> Bool? in
                (try server.metric("docket_connections") == 1 && server.metric("docket_db_pool_waiting") == 0
                    && server.metric("docket_db_pool_in_use") == 0) ? true : nil
            }
            #expect(settled)
        }
    }

    @Test func nulInAnyStoredStringIsAValidationErrorNamingTheField() async throws {
        try await withDocketd { server, endpoint in
            let raw = try server.raw()
            let nul = "a\\u0000b"
            let cases: [(op: String, args: String, field: String)] = [
                ("job.create", "{\"tenant_id\":\"t\",\"name\":\"\(nul)\"}", "name"),
                ("job.create", "{\"tenant_id\":\"t\",\"name\":\"n\",\"description\":\"\(nul)\"}", "description"),
                ("job.create", "{\"tenant_id\":\"t\",\"name\":\"n\",\"idempotency_key\":\"\(nul)\"}", "idempotency_key"),
                ("job.create", "{\"tenant_id\":\"t\",\"name\":\"n\",\"metadata\":{\"\(nul)\":1}}", "metadata"),
                ("job.create", "{\"tenant_id\":\"t\",\"name\":\"n\",\"metadata\":{\"k\":[\"\(nul)\"]}}", "metadata"),
                ("job.create", "{\"tenant_id\":\"t\",\"name\":\"n\",\"execution_context\":{\"k\":\"\(nul)\"}}", "execution_context"),
                ("job.create", "{\"tenant_id\":\"t\",\"name\":\"n\",\"schedule\":{\"kind\":\"cron\",\"expression\":\"* * * * *\",\"timezone\":\"UTC\(nul)\"}}", "schedule"),
                ("task.create", "{\"tenant_id\":\"t\",\"title\":\"\(nul)\"}", "title"),
                ("job.list", "{\"tenant_id\":\"t\",\"metadata\":{\"k\":\"\(nul)\"}}", "metadata"),
            ]
            for (index, item) in cases.enumerated() {
                raw.send(Self.line(index, item.op, item.args))
                let answer = try raw.json()
                #expect(answer.errorCode == "VALIDATION_ERROR", "\(item.op) \(item.field): \(answer)")
                #expect(answer.errorField == item.field, "\(item.op) \(item.field): \(answer)")
            }
            // Forged cursors: year 0, and a 500-digit fraction.
            for (index, time) in ["0000-01-01T00:00:00Z", "2026-01-01T00:00:00." + String(repeating: "1", count: 500) + "Z"].enumerated() {
                let cursor = Cursor(parts: [time, UUID().uuidString]).text
                raw.send(Self.line(100 + index, "job.list", "{\"tenant_id\":\"t\",\"after\":\"\(cursor)\"}"))
                let answer = try raw.json()
                if index == 0 {
                    #expect(answer.errorCode == "VALIDATION_ERROR", "\(answer)")
                    #expect(answer.errorField == "after")
                } else {
                    // A long fraction is a valid time (rounded to the microsecond): the list is served, not INTERNAL.
                    #expect(answer["ok"] == .bool(true), "\(answer)")
                }
            }
            let count = try await withDatabase(endpoint) { database in
                try await database.read { connection in
                    try await connection.query("SELECT (SELECT count(*) FROM docket.jobs) + (SELECT count(*) FROM docket.tasks)",
                                               logger: database.logger).collect().first?.decode(Int.self) ?? -1
                }
            }
            #expect(count == 0, "nothing was stored")
        }
    }

    @Test func protocolLoosenessIsRefused() async throws {
        try await withDocketd { server, _ in
            let client = try await server.client()
            let job = try await client.call("job.create", ["name": .string("keep me"), "tenant_id": .string("t")])
            let jobId = job["id"]?.stringValue ?? ""
            let raw = try server.raw()
            // Two "op" keys: refused, and the job is not deleted.
            raw.send("{\"id\":1,\"op\":\"job.delete\",\"op\":\"ping\",\"args\":{\"job_id\":\"\(jobId)\",\"tenant_id\":\"t\"}}\n")
            #expect(try raw.json().errorCode == "BAD_REQUEST")
            raw.send("{\"id\":2,\"op\":\"job.get\",\"args\":{\"job_id\":\"\(jobId)\",\"job_id\":\"x\",\"tenant_id\":\"t\"}}\n")
            #expect(try raw.json().errorCode == "BAD_REQUEST")
            #expect(try await client.call("job.get", ["job_id": .string(jobId), "tenant_id": .string("t")])["name"] == .string("keep me"))
            // Ids that are not strings, numbers or null are refused.
            for id in ["[1]", "{\"a\":1}", "true"] {
                raw.send("{\"id\":\(id),\"op\":\"ping\"}\n")
                let answer = try raw.json()
                #expect(answer.errorCode == "BAD_REQUEST", "id \(id)")
                #expect(answer["id"] == .null)
            }
            // Ids come back exactly as sent.
            for id in ["9007199254740993", "1.50", "-0", "\"x\\u00e9\"", "1e3"] {
                raw.send("{\"id\":\(id),\"op\":\"ping\"}\n")
                let line = raw.line() ?? ""
                #expect(line.contains(",\"id\":\(id),"), "id \(id) echoed in \(line)")
            }
            // tenant_id of the wrong type is refused by every op, task.add_dependency included.
            for (index, tenant) in ["true", "[]", "{}"].enumerated() {
                raw.send(Self.line(20 + index, "task.add_dependency",
                                   "{\"task_id\":\"\(UUID())\",\"depends_on_id\":\"\(UUID())\",\"tenant_id\":\(tenant)}"))
                let answer = try raw.json()
                #expect(answer.errorCode == "VALIDATION_ERROR", "tenant_id \(tenant): \(answer)")
                #expect(answer.errorField == "tenant_id")
            }
            await client.close()
        }
    }

    @Test func schedulesTakeIANAZonesAndSpaceSeparatedFieldsOnly() async throws {
        try await withDocketd { server, _ in
            let raw = try server.raw()
            func schedule(_ id: Int, _ schedule: String) throws -> [String: JSONValue] {
                raw.send(Self.line(id, "job.create", "{\"tenant_id\":\"t\",\"name\":\"s\",\"schedule\":\(schedule)}"))
                return try raw.json()
            }
            for (index, zone) in ["GMT+5", "UTC+1", "GMT+18", "PST", "IST", "BST", "CEST", "Europe/Nowhere", "europe/berlin"].enumerated() {
                let answer = try schedule(index, "{\"kind\":\"cron\",\"expression\":\"0 9 * * *\",\"timezone\":\"\(zone)\"}")
                #expect(answer.errorCode == "SCHEDULE_ERROR", "\(zone)")
                #expect(answer.errorField == "timezone", "\(zone)")
            }
            for (index, zone) in ["Etc/GMT+5", "UTC", "America/Argentina/Buenos_Aires", "Asia/Kolkata"].enumerated() {
                #expect(try schedule(20 + index, "{\"kind\":\"cron\",\"expression\":\"0 9 * * *\",\"timezone\":\"\(zone)\"}")["ok"] == .bool(true), "\(zone)")
            }
            for (index, separator) in ["\\u00a0", "\\u3000", "\\n", "\\r", "\\u000b", "\\f"].enumerated() {
                let answer = try schedule(40 + index, "{\"kind\":\"cron\",\"expression\":\"0\(separator)9 * * *\"}")
                #expect(answer.errorCode == "SCHEDULE_ERROR", "separator \(separator)")
            }
            #expect(try schedule(50, "{\"kind\":\"cron\",\"expression\":\"0\\t9 * * *\"}")["ok"] == .bool(true), "a tab separates")
            // February 29th on a Sunday: fires in 2032 and again in 2060, not "never again".
            let leap = try schedule(51, "{\"kind\":\"cron\",\"expression\":\"0 0 29 2 */7\"}")
            #expect(leap["data"]?["next_run_at"] == .string("2032-02-29T00:00:00.000000Z"))
            let past = try schedule(52, "{\"kind\":\"interval\",\"every_seconds\":60,\"end_at\":\"2020-01-01T00:00:00Z\"}")
            #expect(past.errorField == "end_at", "\(past)")
            let long = try schedule(53, "{\"kind\":\"cron\",\"expression\":\"\(String(repeating: "1,", count: 50_000))1 * * * *\"}")
            #expect(long.errorCode == "SCHEDULE_ERROR")
            let message = long["error"]?["message"]?.stringValue ?? ""
            #expect(message.utf8.count < 300, "the message does not echo a 100 KB expression")
        }
    }

    @Test func poolGaugeNeverExceedsThePoolSize() async throws {
        try await withDocketd(["--pool-size", "8", "--max-unauthenticated", "400"]) { server, _ in
            let peak = Mutex(0)
            let sampling = Task.detached {
                while !Task.isCancelled {
                    let value = Int((try? server.metric("docket_db_pool_in_use")) ?? 0)
                    peak.withLock { $0 = max($0, value) }
                    try? await Task.sleep(for: .milliseconds(20))  // models time: a sample every 20 ms
                }
            }
            // 300 connections authenticating at once: every auth line sent before any answer is read.
            var connections: [RawConnection] = []
            for _ in 0..<300 { connections.append(try RawConnection(port: server.port)) }
            for connection in connections { connection.send(Self.line(1, "auth", "{\"token\":\"\(server.token)\"}")) }
            for connection in connections { #expect(try connection.json()["ok"] == .bool(true)) }
            sampling.cancel()
            _ = await sampling.result
            let sampled = peak.withLock { $0 }
            let recorded = try server.metric("docket_db_pool_in_use_peak") ?? 0
            print("300 simultaneous auths: pool in use sampled at most \(sampled), recorded peak \(Int(recorded)), waiting peak \(Int(try server.metric("docket_db_pool_waiting_peak") ?? 0))")
            #expect(sampled <= 8)
            #expect(recorded <= 8, "in use counts held connections only; waiting ones have their own gauge")
        }
    }

    @Test func httpPortAnswersOncePerRequestOnlyGetAndIsBounded() async throws {
        try await withDocketd(["--http-max-connections", "8"]) { server, _ in
            let port = server.httpPort
            let chunked = "POST /metrics HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\nZZZ\r\nnot hex\r\n\r\n"
            let answers = try HTTP.exchange(port: port, chunked)
            #expect(answers.count == 1, "one answer to a malformed request, got \(answers.map(\.status))")
            #expect(answers.first?.status == 400)
            for method in ["POST", "DELETE", "PUT"] {
                let (status, _) = try HTTP.request(port: port, "\(method) /metrics HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
                #expect(status == 405, "\(method)")
            }
            #expect(try HTTP.get(port: port, path: "/healthz").status == 200)
            // Idle connections are bounded and closed: 8 silent ones fill the port, a 9th is turned away, and all
            // are closed by the server within its request timeout.
            var idle: [RawConnection] = []
            for _ in 0..<8 { idle.append(try RawConnection(port: port)) }
            try await Task.sleep(for: .milliseconds(300))  // models time: lets the server take the eight in before the ninth
            let (refused, _) = try HTTP.get(port: port, path: "/healthz")
            #expect(refused == 503, "past http-max-connections")
            for connection in idle { #expect(connection.isClosedByServer(within: .seconds(15)), "an idle HTTP connection is closed") }
            let again = try await eventually(.seconds(5)) { () -> Bool? in
                (try? HTTP.get(port: port, path: "/healthz").status) == 200 ? true : nil
            }
            #expect(again, "room again once they are closed")
            #expect(kill(server.process.pid, 0) == 0, "docketd still runs: a refused HTTP connection once crashed it")
        }
    }

    @Test func idleUnauthenticatedConnectionsCannotLockOutRealClients() async throws {
        try await withDocketd(["--max-connections", "50", "--max-unauthenticated", "20"]) { server, _ in
            var idle: [RawConnection] = []
            for _ in 0..<200 { if let connection = try? RawConnection(port: server.port) { idle.append(connection) } }
            // Once the server has taken them all in, the oldest 180 have been closed to keep the budget.
            _ = try await eventually(.seconds(10)) { try server.metric("docket_connections_evicted_total") == 180 ? true : nil }
            // A real client connects and authenticates at once.
            let clock = ContinuousClock()
            let began = clock.now
            let client = try await server.client()
            #expect(try await client.call("ping")["pong"] == .bool(true))
            print("200 idle unauthenticated connections: a real client authenticated after \(clock.now - began)")
            let evicted = try server.metric("docket_connections_evicted_total") ?? 0
            let unauthenticated = try server.metric("docket_connections_unauthenticated") ?? 0
            #expect(evicted >= 180, "the oldest unauthenticated connections made room")
            #expect(unauthenticated <= 20)
            await client.close()
            idle.removeAll()
        }
    }

    @Test func connectionsResetBeforeTheyAreServedLeaveTheListenersUp() async throws {
        try await withDocketd { server, _ in
            // Connect and reset at once, on both ports, many times: a connection that fails while it is being set up
            // must never end the accept loop (it used to end the HTTP listener, and with it the whole process).
            for _ in 0..<400 {
                for port in [server.port, server.httpPort] {
                    if let connection = try? RawConnection(port: port) { connection.reset() }
                }
            }
            let client = try await server.client()
            #expect(try await client.call("ping")["pong"] == .bool(true))
            await client.close()
            #expect(try HTTP.get(port: server.httpPort, path: "/healthz").status == 200)
            #expect(kill(server.process.pid, 0) == 0, "docketd still runs")
        }
    }
}

