import DocketClient
import DocketCore
import DocketPostgres
import DocketTestSupport
import Foundation
import Testing

/// Leader election with three real docketd processes on one database.
@Suite(.serialized)
struct ClusterTests {
    /// Starts three instances sharing a database (and a data folder for the bootstrap key).
    func withCluster(_ body: @Sendable ([Docketd], DatabaseEndpoint) async throws -> Void) async throws {
        try await withTestDatabase(migrated: false) { endpoint in
            let folder = "/tmp/docketd-cluster-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
            var servers: [Docketd] = []
            do {
                for _ in 0..<3 { servers.append(try await Docketd.start(endpoint, folder: folder)) }
                try await body(servers, endpoint)
            } catch {
                for server in servers { server.process.signal(SIGKILL); _ = try? await server.process.wait() }
                try? FileManager.default.removeItem(atPath: folder)
                throw error
            }
            for server in servers { server.process.signal(SIGTERM) }
            for server in servers { _ = try? await server.process.wait() }
            try? FileManager.default.removeItem(atPath: folder)
        }
    }

    /// The leader as the cluster reports it: its instance id and epoch (nil while nobody leads).
    func leader(via server: Docketd) async throws -> (instance: String, epoch: Int)? {
        let client = try await server.client()
        defer { Task { await client.close() } }
        let status = try await client.call("cluster.status")
        guard case .string(let instance)? = status["leader"]?["instance_id"],
              case .number(let epoch)? = status["leader"]?["epoch"] else { return nil }
        return (instance, Int(epoch))
    }

    func instanceId(of server: Docketd) async throws -> String {
        let client = try await server.client()
        defer { Task { await client.close() } }
        guard case .string(let id)? = try await client.call("hello")["instance_id"] else { return "" }
        return id
    }

    /// Waits until `condition` holds for the reported leader, returning it and how long it took.
    func waitForLeader(via server: Docketd, timeout: Duration = .seconds(15),
                       _ condition: (String, Int) -> Bool) async throws -> (instance: String, epoch: Int, after: Duration) {
        let clock = ContinuousClock()
        let started = clock.now
        while clock.now - started < timeout {
            if let current = try? await leader(via: server), condition(current.instance, current.epoch) {
                return (current.instance, current.epoch, clock.now - started)
            }
            try await Task.sleep(for: .milliseconds(50))
        }
        throw DocketError(.unavailable, "no leader satisfying the condition within \(timeout)")
    }

    @Test func exactlyOneLeadsAndKillNineFailsOver() async throws {
        try await withCluster { servers, _ in
            let first = try await waitForLeader(via: servers[0]) { _, _ in true }
            var ids: [String] = []
            for server in servers { ids.append(try await instanceId(of: server)) }
            #expect(ids.contains(first.instance))
            let status = try await servers[1].client().call("cluster.status")
            let active = status["instances"].map { value -> Int in
                guard case .array(let items) = value else { return 0 }
                return items.filter { $0["status"] == .string("active") }.count
            }
            #expect(active == 3)

            let leaderIndex = ids.firstIndex(of: first.instance)!
            servers[leaderIndex].process.signal(SIGKILL)
            _ = try await servers[leaderIndex].process.wait()
            let survivor = servers[(leaderIndex + 1) % 3]
            let next = try await waitForLeader(via: survivor) { instance, epoch in instance != first.instance && epoch > first.epoch }
            print("failover figures: kill -9 → new leader (epoch \(first.epoch) → \(next.epoch)) after \(next.after)")
            #expect(next.after < .seconds(8), "generous bound; the target (< 2 s) is measured in the closing note")
            #expect(ids.contains(next.instance))
        }
    }

    @Test func sigtermHandsOverQuickly() async throws {
        try await withCluster { servers, _ in
            let first = try await waitForLeader(via: servers[0]) { _, _ in true }
            var ids: [String] = []
            for server in servers { ids.append(try await instanceId(of: server)) }
            let leaderIndex = ids.firstIndex(of: first.instance)!
            let clock = ContinuousClock()
            let signalled = clock.now
            servers[leaderIndex].process.signal(SIGTERM)
            let survivor = servers[(leaderIndex + 1) % 3]
            let next = try await waitForLeader(via: survivor) { instance, epoch in instance != first.instance && epoch > first.epoch }
            let handover = clock.now - signalled
            print("failover figures: SIGTERM → new leader after \(handover)")
            #expect(handover < .seconds(5), "generous bound; the target (< 1 s) is measured in the closing note")
            #expect(try await servers[leaderIndex].process.wait() == 0)
            #expect(next.epoch == first.epoch + 1)
        }
    }

    @Test func terminatingTheLockConnectionMovesLeadership() async throws {
        try await withCluster { servers, endpoint in
            let first = try await waitForLeader(via: servers[0]) { _, _ in true }
            _ = try await withDatabase(endpoint) { database in
                try await database.read { connection in
                    try await connection.query("""
                        SELECT pg_terminate_backend(backend_pid) FROM docket.leadership WHERE name = 'default'
                        """, logger: database.logger)
                }
            }
            let next = try await waitForLeader(via: servers[0]) { _, epoch in epoch > first.epoch }
            print("failover figures: pg_terminate_backend → new term after \(next.after)")
            #expect(next.after < .seconds(8))
        }
    }
}
