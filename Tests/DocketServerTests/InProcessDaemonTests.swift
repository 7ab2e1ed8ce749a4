import DocketClient
import DocketCluster
import DocketCore
import DocketDaemon
import DocketPostgres
import DocketTestSupport
import Foundation
import Logging
import Testing

/// The whole daemon, started in the test process: its parts can be watched directly (here the maintainer's pass
/// reports), where a `docketd` process only shows its protocol, `/metrics` and logs.
@Suite struct InProcessDaemonTests {
    @Test func aLeaderRunsItsSweepsAndStopsThemWhenCancelled() async throws {
        try await withTestDatabase(migrated: false) { endpoint in
            let folder = "/tmp/docketd-inprocess-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
            defer { try? FileManager.default.removeItem(atPath: folder) }
            var settings = DaemonConfiguration()
            settings.server.port = 0
            settings.httpPort = 0
            settings.databaseURL = endpoint.url
            settings.dataDirectory = folder
            var logger = Logger(label: "docket.test.daemon")
            logger.logLevel = .warning
            let (parts, partsReady) = AsyncStream.makeStream(of: DocketDaemon.Parts.self)
            let running = Task {
                try await DocketDaemon(settings: settings, logger: logger).run(ownsProcess: false) { parts in
                    partsReady.yield(parts)
                    partsReady.finish()
                }
            }
            do {
                try await watch(running, parts, endpoint: endpoint, folder: folder)
            } catch {
                running.cancel()
                _ = try? await running.value
                throw error
            }
        }
    }

    private func watch(_ running: Task<Void, any Error>, _ parts: AsyncStream<DocketDaemon.Parts>,
                       endpoint: DatabaseEndpoint, folder: String) async throws {
        let daemon = try await Deadline.run(.seconds(60), "the daemon's start") {
            var iterator = parts.makeAsyncIterator()
            return try #require(await iterator.next(), "the daemon builds its parts")
        }
        let reports = daemon.maintainer.reports.subscribe()

        // A lone instance wins the election, and its maintainer starts the sweeps for that term.
        let epoch = try await Deadline.run(.seconds(60), "the election") {
            try #require(await daemon.elector.roles.wait(until: { $0.epoch != nil })?.epoch)
        }

        // A job due every second: the recurrence sweep's passes create its runs, and say so.
        let token = try await eventually {  // the admin key is written once the daemon serves
            try? String(contentsOfFile: BootstrapPath.file(folder), encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines)
        }
        let port = try #require(try await daemon.protocolServer.boundAddress().port)
        let client = try await DocketClient.connect(host: "127.0.0.1", port: port, token: token)
        _ = try await client.call("job.create", ["name": .string("tick"), "tenant_id": .string("t"), "schedule": .object([
            "kind": .string("interval"), "every_seconds": .number(1), "misfire": .string("skip")])])
        await client.close()
        let (kinds, epochs) = try await Deadline.run(.seconds(20), "a recurrence pass that creates a run") {
            var kinds: Set<String> = [], epochs: Set<Int64> = []
            for await report in reports {
                kinds.insert(report.kind)
                epochs.insert(report.epoch)
                if report.kind == "recurrence", (report.result?.changed ?? 0) > 0 { break }
            }
            return (kinds, epochs)
        }
        #expect(epochs == [epoch], "every pass runs in the instance's term")
        #expect(kinds.isSuperset(of: ["recurrence", "timeouts", "retries"]), "every sweep runs in the term: saw \(kinds)")
        #expect((daemon.maintainer.statistics["recurrence"]?.changed ?? 0) >= 1, "the passes are counted for /metrics")

        // Cancelling the task stops the daemon (no graceful resignation: the lock connection just closes), and run
        // returns: no part ignores cancellation.
        running.cancel()
        try await Deadline.run(.seconds(20), "the daemon's stop") { _ = try? await running.value }
        #expect(daemon.elector.currentRole == .follower)
        // The lock goes when PostgreSQL has seen the connection close.
        let released = try? await eventually(.seconds(10)) { () async throws -> Bool? in
            let locks = try await withDatabase(endpoint) { database in
                try await database.read { connection in
                    // The election's lock (two-integer form: objsubid 2, key 2) in this test's database.
                    try await connection.query("""
                        SELECT count(*)::int FROM pg_locks
                        WHERE locktype = 'advisory' AND objsubid = 2 AND objid = 2
                          AND database = (SELECT oid FROM pg_database WHERE datname = current_database())
                        """, logger: database.logger).collect().first!.decode(Int.self)
                }
            }
            return locks == 0 ? true : nil
        }
        #expect(released == true, "the leader's lock went with its connection")
    }
}
