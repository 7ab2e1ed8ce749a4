import DocketClient
import DocketCore
import DocketPostgres
import DocketTestSupport
import Foundation
import Testing

/// Cross-instance behaviour and recovery from a database restart.
@Suite(.serialized)
struct ClusterRecoveryTests {
    @Test func aTaskOnOneInstanceUnblocksThroughAnother() async throws {
        try await withTestDatabase(migrated: false) { endpoint in
            let folder = "/tmp/docketd-pair-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
            let a = try await Docketd.start(endpoint, folder: folder)
            let b = try await Docketd.start(endpoint, folder: folder)
            let onA = try await a.client(), onB = try await b.client()
            let t: JSONValue = .string("t")
            let prerequisite = try await onB.call("task.create", ["title": .string("first"), "tenant_id": t])
            let dependent = try await onA.call("task.create", ["title": .string("second"), "tenant_id": t])
            let blocked = try await onA.call("task.add_dependency", ["task_id": dependent["id"]!, "depends_on_id": prerequisite["id"]!, "tenant_id": t])
            #expect(blocked["status"] == .string("blocked"))
            try await onB.call("task.start", ["task_id": prerequisite["id"]!, "tenant_id": t])
            try await onB.call("task.complete", ["task_id": prerequisite["id"]!, "tenant_id": t])
            let seen = try await onA.call("task.get", ["task_id": dependent["id"]!, "tenant_id": t])
            #expect(seen["status"] == .string("pending"), "unblocked by the completion made through the other instance")
            await onA.close()
            await onB.close()
            #expect(try await a.stop() == 0)
            #expect(try await b.stop() == 0)
            try? FileManager.default.removeItem(atPath: folder)
        }
    }

    @Test func everyInstanceRecoversFromADatabaseRestart() async throws {
        // A PostgreSQL of its own: restarting the shared test server would disturb the other tests.
        let dataFolder = "/tmp/docket-restart-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
        let database = try EmbeddedPostgres(dataDirectory: dataFolder, serverSettings: ["fsync": "off"])
        let endpoint = try await database.ensureRunning(logger: .init(label: "test"))
        let folder = dataFolder + "-docketd"
        var servers: [Docketd] = []
        do {
            for _ in 0..<3 { servers.append(try await Docketd.start(endpoint, folder: folder)) }
            let before = try await Cluster.waitForLeader(via: servers[0]) { _, _ in true }
            // A subscriber on instance 0 keeps its connection to docketd through the database restart.
            let watcher = try await servers[0].client()
            defer { Task { await watcher.close() } }
            try await watcher.call("subscribe", ["topics": .array([.string("job.*")]), "tenant_id": .string("t")])
            let client = try await servers[1].client()
            let job = try await client.call("job.create", ["name": .string("before the restart"), "tenant_id": .string("t")])
            await client.close()

            #expect(try await database.stop())
            try await Task.sleep(for: .seconds(2))  // models time: the database stays away two seconds
            _ = try await database.start()

            // One leader again (a new term), and every instance serves requests again, by itself.
            let after = try await Cluster.waitForLeader(via: servers[2], timeout: .seconds(40)) { _, epoch in epoch > before.epoch }
            print("restart figures: new term \(after.epoch) after the restart, \(after.after) after the server came back")
            for server in servers {
                let recovered = try await eventually(.seconds(30)) { () -> JSONValue? in
                    guard let client = try? await server.client() else { return nil }
                    defer { Task { await client.close() } }
                    return try? await client.call("job.get", ["job_id": job["id"]!, "tenant_id": .string("t")])
                }
                #expect(recovered["name"] == .string("before the restart"))
            }
            // Exactly one instance believes it leads (a deposed one steps down as soon as it sees its lock connection gone).
            let leaders = try await eventually(.seconds(10)) { () -> Int? in
                var count = 0
                for server in servers {
                    let client = try await server.client()
                    if try await client.call("cluster.status")["this_instance"]?["role"] == .string("leader") { count += 1 }
                    await client.close()
                }
                return count == 1 ? count : nil
            }
            #expect(leaders == 1, "exactly one instance believes it leads")

            // No event lost: jobs made through instance 1 right after the restart reach the subscriber on instance 0,
            // and it has every job event of the tenant, in seq order, each once.
            let writer = try await servers[1].client()
            for index in 0..<5 { try await writer.call("job.create", ["name": .string("after \(index)"), "tenant_id": .string("t")]) }
            await writer.close()
            let stored: [Int64] = try await withDatabase(endpoint) { database in
                try await database.read { connection in
                    var seqs: [Int64] = []
                    let rows = try await connection.query(
                        "SELECT seq FROM docket.events WHERE tenant_id = 't' AND topic LIKE 'job.%' ORDER BY seq", logger: .init(label: "test"))
                    for try await seq in rows.decode(Int64.self) { seqs.append(seq) }
                    return seqs
                }
            }
            let received = try await pushedEvents(watcher, count: stored.count, timeout: .seconds(20)).map { event -> Int64 in
                if case .number(let seq)? = event["seq"] { return Int64(seq) }
                return -1
            }
            #expect(received == stored, "every event of the tenant, before and after the restart, once and in order")
        } catch {
            Issue.record(error)
        }
        for server in servers { _ = try? await server.stop() }
        _ = try? await database.stop()
        database.removeFiles()
        try? FileManager.default.removeItem(atPath: folder)
    }
}
