import DocketClient
import DocketCore
import DocketPostgres
import DocketServices
import DocketTestSupport
import Foundation
import PostgresNIO
import Testing

@Suite(.serialized)
struct ProtocolTests {
    @Test func badInputGetsTypedErrorsAndTheConnectionStaysUsable() async throws {
        try await withDocketd { server, _ in
            let raw = try RawConnection(port: server.port)
            raw.send("{\"id\":1,\"op\":\"hello\"}\n")
            let hello = try raw.json()
            #expect(hello["ok"] == .bool(true))
            #expect(hello["data"]?.objectValue?["protocol"] == .number(1))
            raw.send("{\"id\":2,\"op\":\"job.list\"}\n")
            #expect(try raw.json().errorCode == "UNAUTHENTICATED")
            raw.send("this is not json\n")
            let garbage = try raw.json()
            #expect(garbage.errorCode == "BAD_REQUEST")
            #expect(garbage["id"] == .null)
            raw.send("{\"id\":3}\n")
            let noOp = try raw.json()
            #expect(noOp.errorCode == "BAD_REQUEST")
            #expect(noOp["id"] == .number(3))
            raw.send("{\"id\":4,\"op\":\"auth\",\"args\":{\"token\":\"\(server.token)\"}}\n")
            #expect(try raw.json()["ok"] == .bool(true))
            raw.send("{\"id\":\"five\",\"op\":\"job.explode\"}\n")
            let unknown = try raw.json()
            #expect(unknown.errorCode == "UNKNOWN_OP")
            #expect(unknown["id"] == .string("five"))
            raw.send("{\"id\":6,\"op\":\"job.get\",\"args\":{\"job_id\":\"not-a-uuid\"}}\n")
            #expect(try raw.json().errorCode == "VALIDATION_ERROR")
            raw.send("{\"id\":7,\"op\":\"job.list\",\"args\":[1,2]}\n")
            #expect(try raw.json().errorCode == "BAD_REQUEST")
            raw.send("{\"id\":8,\"op\":\"job.create\",\"args\":{\"name\":\"" + String(repeating: "x", count: 2 << 20) + "\"}}\n")
            let tooLong = try raw.json()
            #expect(tooLong.errorCode == "LINE_TOO_LONG")
            raw.send("{\"id\":9,\"op\":\"ping\"}\n")
            #expect(try raw.json()["id"] == .number(9), "still usable after every bad line")
        }
    }

    @Test func pipelinedRequestsAreMatchedById() async throws {
        try await withDocketd { server, _ in
            let client = try await server.client()
            let ids = try await withThrowingTaskGroup(of: String.self) { group in
                for index in 0..<200 {
                    group.addTask {
                        let job = try await client.call("job.create", ["name": .string("job-\(index)"), "tenant_id": .string("t")])
                        guard case .string(let name)? = job.objectValue?["name"] else { return "" }
                        return name
                    }
                }
                return try await group.reduce(into: Set<String>()) { $0.insert($1) }
            }
            #expect(ids == Set((0..<200).map { "job-\($0)" }))
            let page = try await client.call("job.list", ["tenant_id": .string("t"), "limit": .number(1000)])
            #expect(page.objectValue?["items"].flatMap { if case .array(let items) = $0 { items.count } else { nil } } == 200)
            await client.close()
        }
    }

    @Test func clientErrorsCarryCodes() async throws {
        try await withDocketd { server, _ in
            let client = try await server.client()
            do {
                try await client.call("job.get", ["job_id": .string(UUID().uuidString), "tenant_id": .string("t")])
                Issue.record("expected JOB_NOT_FOUND")
            } catch let error as DocketError {
                #expect(error.code == .jobNotFound)
            }
            let job = try await client.call("job.create", ["name": .string("j"), "tenant_id": .string("t")])
            let id = job.objectValue?["id"] ?? .null
            try await client.call("job.start", ["job_id": id])
            let done = try await client.call("job.complete", ["job_id": id, "actual_cost": .string("0.10")])
            #expect(done.objectValue?["status"] == .string("succeeded"))
            #expect(done.objectValue?["actual_cost"] == .string("0.10"))
            await client.close()
            do {
                try await client.call("ping")
                Issue.record("a call on a closed client must fail")
            } catch let error as DocketError {
                #expect(error.code == .unavailable)
            }
        }
    }

    @Test func connectionFailureIsAnErrorNotAHang() async throws {
        let port = try await withDocketd { server, _ in server.port }  // stopped now: nothing listens there
        await #expect(throws: DocketError.self) {
            _ = try await DocketClient.connect(host: "127.0.0.1", port: port, connectTimeout: .seconds(2))
        }
    }

    @Test func authFailuresExpiryAndRevocation() async throws {
        try await withDocketd(["--max-failed-auths", "3"]) { server, endpoint in
            let raw = try RawConnection(port: server.port)
            for attempt in 1...3 {
                raw.send("{\"id\":\(attempt),\"op\":\"auth\",\"args\":{\"token\":\"dk_nope\"}}\n")
                #expect(try raw.json().errorCode == "UNAUTHENTICATED")
            }
            #expect(raw.line() == nil, "disconnected after 3 failed auths")

            try await withDatabase(endpoint) { database in
                let keys = APIKeyService(database: database)
                let worker = Principal(id: "w1", type: .agent, tenantId: "t", scopes: [.jobExecute])
                let (token, record) = try await keys.create(for: worker)
                let client = try await server.client(token: token)
                try await client.call("job.list")
                await client.close()
                try await keys.revoke(record.id)
                await #expect(throws: DocketError.self) { _ = try await server.client(token: token) }
                let (expiring, _) = try await keys.create(for: worker, expiresAt: Date().addingTimeInterval(-1))
                await #expect(throws: DocketError.self) { _ = try await server.client(token: expiring) }
            }
        }
    }

    @Test func unauthenticatedConnectionsAreClosedAtTheDeadline() async throws {
        try await withDocketd(["--auth-deadline", "1"]) { server, _ in
            let raw = try RawConnection(port: server.port)
            raw.send("{\"id\":1,\"op\":\"ping\"}\n")
            #expect(try raw.json()["ok"] == .bool(true))
            let started = ContinuousClock.now
            #expect(raw.line() == nil)
            #expect(ContinuousClock.now - started < .seconds(8))
        }
    }

    @Test func connectionsPastTheMaximumAreRefused() async throws {
        try await withDocketd(["--max-connections", "2"]) { server, _ in
            let first = try await server.client(), second = try await server.client()
            let third = try RawConnection(port: server.port)
            #expect(try third.json().errorCode == "RATE_LIMITED")
            #expect(third.line() == nil)
            try await first.call("ping")
            try await second.call("ping")
            await first.close()
            await second.close()
        }
    }

    @Test func healthReadinessAndMetrics() async throws {
        try await withDocketd { server, _ in
            let client = try await server.client()
            try await client.call("job.list", ["tenant_id": .string("t")])
            await client.close()
            let health = try HTTP.get(port: server.httpPort, path: "/healthz")
            #expect(health.status == 200)
            #expect(try HTTP.get(port: server.httpPort, path: "/readyz").status == 200)
            let metrics = try HTTP.get(port: server.httpPort, path: "/metrics")
            #expect(metrics.body.contains("docket_requests_total{op=\"job.list\"} 1"))
            #expect(metrics.body.contains("docket_request_duration_seconds_bucket{op=\"job.list\",le=\"+Inf\"} 1"))
            #expect(metrics.body.contains("docket_db_pool_size 20"))
            #expect(metrics.body.contains("docket_db_pool_in_use_peak"))
            #expect(metrics.body.contains("docket_connections "))
            #expect(try HTTP.get(port: server.httpPort, path: "/nope").status == 404)
        }
    }

    @Test func sigtermDrainsAndExitsZero() async throws {
        try await withTestDatabase(migrated: false) { endpoint in
            let server = try await Docketd.start(endpoint)
            let client = try await server.client()
            try await client.call("ping")
            #expect(try await server.stop() == 0)
        }
    }

    @Test func invalidConfigurationIsRefusedWithItsName() async throws {
        let output = try await Command(executable: try PackagePaths.docketd, arguments: ["--max-in-flight", "0"]).runAsync()
        #expect(output.status == 2)
        #expect(output.text.contains("max_in_flight") || output.text.contains("max-in-flight"))
        let listen = try await Command(executable: try PackagePaths.docketd, arguments: ["--listen", "nowhere"]).runAsync()
        #expect(listen.status == 2)
        #expect(listen.text.contains("listen: must be host:port"))
        for (flag, value, name) in [("--bus", "maybe", "bus"), ("--retention", "soon", "retention"),
                                    ("--callback-attempts", "0", "callback-attempts"), ("--subscriber-buffer", "0", "subscriber_buffer"),
                                    ("--callback-refuse-private", "perhaps", "callback-refuse-private"),
                                    ("--group-commit", "maybe", "group-commit"), ("--retain-failed", "soon", "retain-failed")] {
            let refused = try await Command(executable: try PackagePaths.docketd, arguments: [flag, value]).runAsync()
            #expect(refused.status == 2, "\(flag) \(value)")
            #expect(refused.text.contains(name), "\(flag) \(value): \(refused.text)")
        }
    }
}

/// Runs `body` with a pool on `endpoint`.
