import DocketClient
import DocketCore
import DocketPostgres
import DocketServices
import DocketTestSupport
import Foundation
import PostgresNIO
import Synchronization
import Testing

/// The Done-when checks of the server issue, against real docketd processes (one at a time: they load the machine).
@Suite(.serialized)
struct EndToEndTests {
    @Test func tenThousandPipelinedRequestsOnOneConnection() async throws {
        try await withDocketd { server, _ in
            let raw = try RawConnection(port: server.port)
            raw.send("{\"id\":0,\"op\":\"auth\",\"args\":{\"token\":\"\(server.token)\"}}\n")
            #expect(try raw.json()["ok"] == .bool(true))
            // Send everything first, as one stream, then read: answers must match every id exactly once.
            let count = 10_000
            let writer = Task.detached {
                var batch = ""
                for id in 1...count {
                    batch += id % 2 == 0
                        ? "{\"id\":\(id),\"op\":\"ping\"}\n"
                        : "{\"id\":\(id),\"op\":\"job.list\",\"args\":{\"tenant_id\":\"t\",\"limit\":1}}\n"
                    if batch.utf8.count > 60_000 { raw.send(batch); batch = "" }
                }
                raw.send(batch)
            }
            var seen = Set<Int>()
            for _ in 0..<count {
                let response = try raw.json()
                #expect(response["ok"] == .bool(true))
                if case .number(let id)? = response["id"] { seen.insert(Int(id)) }
            }
            await writer.value
            #expect(seen == Set(1...count))
        }
    }

    @Test func splitRequestsAndInvalidUTF8() async throws {
        try await withDocketd { server, _ in
            let raw = try RawConnection(port: server.port)
            for piece in ["{\"id\"", ":7,\"o", "p\":\"pi", "ng\"}", "\n"] {
                raw.send(piece)
                try await Task.sleep(for: .milliseconds(30))  // models time: each piece in a packet of its own
            }
            let split = try raw.json()
            #expect(split["id"] == .number(7))
            #expect(split["ok"] == .bool(true))
            var invalid: [UInt8] = Array("{\"id\":8,\"op\":\"ping\",\"x\":\"".utf8) + [0xff, 0xfe, 0xc3] + Array("\"}\n".utf8)
            invalid.withUnsafeMutableBytes { buffer in
                _ = Glibc.send(raw.fd, buffer.baseAddress, buffer.count, Int32(MSG_NOSIGNAL))
            }
            #expect(try raw.json().errorCode == "BAD_REQUEST")
            raw.send("{\"id\":9,\"op\":\"ping\"}\n")
            #expect(try raw.json()["id"] == .number(9))
        }
    }

    @Test func everyFamilyAndCrossTenantOverTheWire() async throws {
        try await withDocketd { server, endpoint in
            let (tokenA, tokenB) = try await withDatabase(endpoint) { database in
                let keys = APIKeyService(database: database)
                let a = try await keys.create(for: Principal(id: "a", type: .user, tenantId: "ta", scopes: [.jobAdmin, .taskAdmin, .clusterAdmin]))
                let b = try await keys.create(for: Principal(id: "b", type: .user, tenantId: "tb", scopes: [.jobAdmin, .taskAdmin]))
                return (a.token, b.token)
            }
            let a = try await server.client(token: tokenA), b = try await server.client(token: tokenB)
            let job = try await a.call("job.create", ["name": .string("a's")])
            let task = try await a.call("task.create", ["title": .string("a's task"), "priority": .string("HIGH")])
            let jobId = job["id"] ?? .null, taskId = task["id"] ?? .null
            try await a.call("job.link_task", ["job_id": jobId, "task_id": taskId, "relationship_type": .string("step")])
            try await a.call("task.start", ["task_id": taskId])
            let completed = try await a.call("task.complete", ["task_id": taskId, "completion_notes": .string("ok")])
            #expect(completed["status"] == .string("completed"))
            let budget = try await a.call("budget.set", ["limit": .string("5.00"), "period": .string("total")])
            #expect(budget["limit"] == .string("5.00"))
            for (op, args) in [("job.get", ["job_id": jobId]), ("job.start", ["job_id": jobId]), ("task.get", ["task_id": taskId]),
                               ("task.update_context", ["task_id": taskId, "context_updates": .object([:])]),
                               ("job.list", ["tenant_id": .string("ta")])] as [(String, [String: JSONValue])] {
                do {
                    try await b.call(op, args)
                    Issue.record("\(op) across tenants must be refused")
                } catch let error as DocketError {
                    // By id, another tenant's entity is a missing one; naming the tenant is refused as such.
                    let expected: DocketError.Code = op == "job.list" ? .permissionDenied : op.hasPrefix("job.") ? .jobNotFound : .taskNotFound
                    #expect(error.code == expected, "\(op)")
                    if op != "job.list" { #expect(error.details["tenant_id"] == nil, "\(op) does not name the other tenant") }
                }
            }
            await a.close()
            await b.close()
        }
    }

    @Test func sigtermUnderLoadKeepsEveryAnsweredWrite() async throws {
        try await withTestDatabase(migrated: false) { endpoint in
            let server = try await Docketd.start(endpoint)
            let progress = Counter()
            let answered = try await withThrowingTaskGroup(of: [String].self) { group in
                for worker in 0..<4 {
                    group.addTask {
                        let client = try await server.client()
                        var ids: [String] = []
                        for index in 0..<100_000 {
                            guard let job = try? await client.call("job.create", ["name": .string("w\(worker)-\(index)"), "tenant_id": .string("t")]),
                                  case .string(let id)? = job["id"] else { break }
                            ids.append(id)
                            progress.add()
                        }
                        return ids
                    }
                }
                // Stop while the load runs: once it is well under way (or after 20 s on a very busy machine).
                _ = try? await eventually(.seconds(20), every: .milliseconds(20)) { progress.value >= 200 ? true : nil }
                #expect(try await server.stop() == 0)
                return try await group.reduce(into: [String]()) { $0 += $1 }
            }
            #expect(answered.count >= 200, "the load ran")
            let stored = try await withDatabase(endpoint) { database in
                try await database.read { connection in
                    try await connection.query("SELECT id::text FROM docket.jobs", logger: database.logger)
                        .collect().map { try $0.decode(String.self) }
                }
            }
            #expect(Set(answered).isSubset(of: Set(stored)), "every answered create is in the database")
        }
    }

    @Test func idleAndTrickleConnectionsDoNotSlowOthers() async throws {
        try await withDocketd(["--max-connections", "2000"]) { server, _ in
            let baseline = try await latencies(server, count: 200)
            let rssBefore = server.residentMegabytes
            var idle: [RawConnection] = []
            for _ in 0..<1000 { idle.append(try RawConnection(port: server.port)) }
            let trickle = try RawConnection(port: server.port)
            let trickler = Task.detached {
                for byte in Array("{\"id\":1,\"op\":\"ping\"}\n".utf8) {
                    trickle.send(String(UnicodeScalar(byte)))
                    try? await Task.sleep(for: .seconds(1))  // models time: a client that sends a byte a second
                    if Task.isCancelled { return }
                }
            }
            let loaded = try await latencies(server, count: 200)
            trickler.cancel()
            let rssAfter = server.residentMegabytes
            let p99 = loaded.sorted()[Int(Double(loaded.count) * 0.99) - 1]
            let baseP99 = baseline.sorted()[Int(Double(baseline.count) * 0.99) - 1]
            print("idle-connections figures: p99 \(p99) with 1,000 idle + 1 trickling connections, \(baseP99) without; RSS \(rssBefore) MB → \(rssAfter) MB")
            #expect(p99 < .seconds(1), "p99 with 1,000 idle connections: \(p99) (without: \(baseP99))")
            #expect(rssAfter - rssBefore < 300, "memory grew \(rssAfter - rssBefore) MB for 1,000 idle connections")
            withExtendedLifetime(idle) {}
        }
    }

    @Test func embeddedDefaultAndThePrintedKeyWork() async throws {
        let folder = "/tmp/docketd-embedded-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
        let process = try Command(executable: try PackagePaths.docketd, arguments: [
            "--listen", "127.0.0.1:0", "--http", "127.0.0.1:0", "--data-dir", folder, "--log-level", "warning",
        ]).start()
        defer {
            process.signal(SIGKILL)  // only matters when the test failed before docketd exited
            _ = try? EmbeddedPostgres(dataDirectory: folder).stopImmediatelyBlocking()
            (try? EmbeddedPostgres(dataDirectory: folder))?.removeFiles()
        }
        let keyLine = try await process.waitForLine { $0.hasPrefix("  dk_") }
        let listening = try await process.waitForLine { $0.hasPrefix("docketd listening on ") }
        let address = String(listening.split(separator: " ")[3])
        let token = keyLine.trimmingCharacters(in: .whitespaces)
        let listed = try await Command(executable: try PackagePaths.docket, arguments: [
            "jobs", "list", "--address", address, "--token", token, "--tenant", "demo"]).runAsync()
        #expect(listed.status == 0, "\(listed.text)")
        #expect(listed.text.contains("(none)"))
        #expect(try await process.waitForExit() == 0)
    }

    /// A port another process holds ends docketd at once with UNAVAILABLE naming it, and the embedded PostgreSQL it
    /// started goes with it (it used to wait on the missing address until the service group's cancellation limit, then
    /// trap, leaving the database running).
    @Test(arguments: ["--listen", "--http"])
    func aTakenPortEndsDocketdWithItsReason(flag: String) async throws {
        let holder = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(holder) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &address) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                bind(holder, $0, length) == 0 && listen(holder, 1) == 0 && getsockname(holder, $0, &length) == 0
            }
        }
        try #require(bound)
        let taken = "127.0.0.1:\(UInt16(bigEndian: address.sin_port))"
        let folder = "/tmp/docketd-embedded-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
        defer {
            _ = try? EmbeddedPostgres(dataDirectory: folder).stopImmediatelyBlocking()
            (try? EmbeddedPostgres(dataDirectory: folder))?.removeFiles()
        }
        var arguments = ["--listen", "127.0.0.1:0", "--http", "127.0.0.1:0", "--data-dir", folder, "--log-level", "warning"]
        arguments[arguments.firstIndex(of: flag)! + 1] = taken
        let started = ContinuousClock.now
        let output = try await Command(executable: try PackagePaths.docketd, arguments: arguments).runAsync()
        #expect(output.status == 1, "\(output.text)")
        #expect(output.text.contains("UNAVAILABLE: cannot listen on \(taken)"), "\(output.text)")
        #expect(!output.text.contains("Fatal error"), "\(output.text)")
        #expect(ContinuousClock.now - started < .seconds(30))
        let left = try await Command(executable: "/usr/bin/pgrep", arguments: ["-f", folder]).runAsync()
        #expect(left.text.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty, "its PostgreSQL stopped: \(left.text)")
    }
}

extension RunningCommand {
    /// SIGTERM and the exit status.
    func waitForExit() async throws -> Int32 {
        signal(SIGTERM)
        return try await wait()
    }
}

/// Latencies of `count` sequential pings from a fresh authenticated client.
func latencies(_ server: Docketd, count: Int) async throws -> [Duration] {
    let client = try await server.client()
    var result: [Duration] = []
    let clock = ContinuousClock()
    for _ in 0..<count {
        let began = clock.now
        try await client.call("job.list", ["tenant_id": .string("t"), "limit": .number(1)])
        result.append(clock.now - began)
    }
    await client.close()
    return result
}

/// A count shared by concurrent tasks.
final class Counter: Sendable {
    private let count = Mutex(0)
    func add() { count.withLock { $0 += 1 } }
    var value: Int { count.withLock { $0 } }
}
