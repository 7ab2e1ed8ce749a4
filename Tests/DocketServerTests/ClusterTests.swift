import DocketClient
import DocketCore
import DocketPostgres
import DocketTestSupport
import Foundation
import Logging
import Testing

/// Leader election with three real docketd processes on one database.
@Suite(.serialized)
struct ClusterTests {
    @Test func exactlyOneLeadsAndKillNineFailsOver() async throws {
        try await Cluster.with(3) { servers, _ in
            let first = try await Cluster.waitForLeader(via: servers[0]) { _, _ in true }
            var ids: [String] = []
            for server in servers { ids.append(try await Cluster.instanceId(of: server)) }
            #expect(ids.contains(first.instance))
            let status = try await servers[1].client().call("cluster.status")
            let active = status["instances"].map { value -> Int in
                guard case .array(let items) = value else { return 0 }
                return items.filter { $0["status"] == .string("active") }.count
            }
            #expect(active == 3)
            let cli = try await Command(executable: try PackagePaths.docket, arguments: [
                "cluster", "status", "--address", "127.0.0.1:\(servers[2].port)", "--token", servers[2].token]).runAsync()
            #expect(cli.status == 0)
            #expect(cli.text.contains("Leader: \(first.instance)"), "\(cli.text)")

            let leaderIndex = ids.firstIndex(of: first.instance)!
            servers[leaderIndex].process.signal(SIGKILL)
            _ = try await servers[leaderIndex].process.wait()
            let survivor = servers[(leaderIndex + 1) % 3]
            let next = try await Cluster.waitForLeader(via: survivor) { instance, epoch in instance != first.instance && epoch > first.epoch }
            print("failover figures: kill -9 → new leader (epoch \(first.epoch) → \(next.epoch)) after \(next.after)")
            #expect(next.after < .seconds(8), "generous bound; the target (< 2 s) is measured in the closing note")
            #expect(ids.contains(next.instance))
        }
    }

    @Test func sigtermHandsOverQuickly() async throws {
        try await Cluster.with(3) { servers, _ in
            let first = try await Cluster.waitForLeader(via: servers[0]) { _, _ in true }
            var ids: [String] = []
            for server in servers { ids.append(try await Cluster.instanceId(of: server)) }
            let leaderIndex = ids.firstIndex(of: first.instance)!
            let clock = ContinuousClock()
            let signalled = clock.now
            servers[leaderIndex].process.signal(SIGTERM)
            let survivor = servers[(leaderIndex + 1) % 3]
            let next = try await Cluster.waitForLeader(via: survivor) { instance, epoch in instance != first.instance && epoch > first.epoch }
            let handover = clock.now - signalled
            print("failover figures: SIGTERM → new leader after \(handover)")
            #expect(handover < .seconds(5), "generous bound; the target (< 1 s) is measured in the closing note")
            #expect(try await servers[leaderIndex].process.wait() == 0)
            #expect(next.epoch == first.epoch + 1)
        }
    }

    @Test func terminatingTheLockConnectionMovesLeadership() async throws {
        try await Cluster.with(3) { servers, endpoint in
            let first = try await Cluster.waitForLeader(via: servers[0]) { _, _ in true }
            _ = try await withDatabase(endpoint) { database in
                try await database.read { connection in
                    try await connection.query("""
                        SELECT pg_terminate_backend(backend_pid) FROM docket.leadership WHERE name = 'default'
                        """, logger: database.logger)
                }
            }
            let next = try await Cluster.waitForLeader(via: servers[0]) { _, epoch in epoch > first.epoch }
            print("failover figures: pg_terminate_backend → new term after \(next.after)")
            #expect(next.after < .seconds(8))
        }
    }

    @Test func aFrozenLeaderIsReplacedAndWritesNothingWhenItWakes() async throws {
        try await Cluster.with(3) { servers, endpoint in
            let first = try await Cluster.waitForLeader(via: servers[0]) { _, _ in true }
            var ids: [String] = []
            for server in servers { ids.append(try await Cluster.instanceId(of: server)) }
            let leaderIndex = ids.firstIndex(of: first.instance)!
            let frozen = servers[leaderIndex], survivor = servers[(leaderIndex + 1) % 3]
            // Give the sweeps work every second, so a leader that woke up believing itself leader would write.
            let client = try await survivor.client()
            for index in 0..<3 {
                try await client.call("job.create", ["name": .string("tick-\(index)"), "tenant_id": .string("t"), "schedule": .object([
                    "kind": .string("interval"), "every_seconds": .number(1), "misfire": .string("skip")])])
            }
            await client.close()
            try await Task.sleep(for: .seconds(2))  // models time: the schedules run a while under the first leader
            let clock = ContinuousClock()
            let stopped = clock.now
            frozen.process.signal(SIGSTOP)
            // A leader frozen mid-sweep leaves its fence open: a transaction holding the leadership row FOR SHARE. This
            // connection stands in for it (deterministically), and the new term's claim must end it rather than wait.
            let fenceLogger = Logger(label: "frozen-fence")
            let fence = try await endpoint.connect(logger: fenceLogger)
            let fencePid: Int32
            do {
                try await fence.query("BEGIN", logger: fenceLogger)
                fencePid = try await fence.query("SELECT pg_backend_pid() FROM docket.leadership FOR SHARE", logger: fenceLogger)
                    .collect().first!.decode(Int32.self)
                _ = try await Cluster.waitForLeader(via: survivor, timeout: .seconds(30)) { instance, epoch in
                    instance != first.instance && epoch > first.epoch
                }
            } catch {
                try? await fence.close()
                frozen.process.signal(SIGCONT)
                throw error
            }
            let takeover = clock.now - stopped
            print("failover figures: SIGSTOP → new leader after \(takeover) (lease TTL 10 s)")
            #expect(takeover < .seconds(16), "target: lease TTL + 2 s")
            let fenceAlive = try await withDatabase(endpoint) { database in
                try await database.read { connection in
                    try await connection.query("SELECT count(*)::int FROM pg_stat_activity WHERE pid = \(fencePid)",
                                               logger: database.logger).collect().first!.decode(Int.self)
                }
            }
            #expect(fenceAlive == 0, "the frozen fence's backend was terminated")
            try? await fence.close()
            let remaining = .seconds(30) - (clock.now - stopped)
            if remaining > .zero { try await Task.sleep(for: remaining) }  // models time: frozen for 30 s in all
            frozen.process.signal(SIGCONT)
            try await Task.sleep(for: .seconds(5))  // models time: five seconds awake, when it could write
            // The woken leader reports itself a follower…
            let woken = try await frozen.client()
            let local = try await woken.call("cluster.status")["this_instance"]
            await woken.close()
            #expect(local?["role"] == .string("follower"))
            // …and nothing carrying its epoch was written after the new epoch's first write.
            let (lateEvents, lateRuns) = try await withDatabase(endpoint) { database in
                try await database.read { connection in
                    try await connection.query("""
                        SELECT
                          (SELECT count(*)::int FROM docket.events WHERE leader_epoch = \(Int64(first.epoch))
                             AND occurred_at > (SELECT elected_at FROM docket.leadership WHERE name = 'default')),
                          (SELECT count(*)::int FROM docket.job_runs WHERE leader_epoch = \(Int64(first.epoch))
                             AND started_at > (SELECT elected_at FROM docket.leadership WHERE name = 'default'))
                        """, logger: database.logger).collect().first!.decode((Int, Int).self)
                }
            }
            if lateEvents > 0 {
                let dump = try await withDatabase(endpoint) { database in
                    try await database.read { connection in
                        try await connection.query("""
                            SELECT seq, topic, leader_epoch, occurred_at::text, actor_id FROM docket.events
                            WHERE leader_epoch IS NOT NULL ORDER BY seq
                            """, logger: database.logger).collect().map { row -> String in
                            let (seq, topic, epoch, at, actor) = try row.decode((Int64, String, Int64, String, String?).self)
                            return "\(seq) \(topic) e\(epoch) \(at) \(actor ?? "")"
                        }
                    }
                }
                print("events by epoch:\n" + dump.joined(separator: "\n"))
            }
            #expect(lateEvents == 0)
            #expect(lateRuns == 0)
        }
    }
}
