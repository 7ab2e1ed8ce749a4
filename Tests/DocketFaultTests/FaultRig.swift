import DocketClient
import DocketCore
import DocketPostgres
import DocketTestSupport
import Foundation
import Testing

/// A PostgreSQL of its own and docketd instances on it, with the checks every fault ends with.
struct FaultRig {
    /// Short deadlines, so a fault's effects show within seconds; SIGTERM must finish within grace + 5 s.
    static let requestTimeout = 3.0
    static let flags = ["--request-timeout", "3", "--acquire-timeout", "1", "--statement-timeout", "3", "--shutdown-grace", "5"]
    /// How much later than its deadline an answer may come (the deadline ticker, a loaded two-core machine).
    static let answerMargin: Duration = .milliseconds(1500)

    let postgres: FaultPostgres
    let endpoint: DatabaseEndpoint
    var servers: [Docketd] = []
    let folder = "/tmp/docketd-fault-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"

    /// Runs `body` with `instances` docketd on a fresh server (its disk a tmpfs of `diskMegabytes` when given);
    /// destroys everything afterwards, whatever happens.
    static func with(instances: Int = 2, diskMegabytes: Int? = nil, extraFlags: [[String]] = [],
                     _ body: (inout FaultRig) async throws -> Void) async throws {
        let postgres = try await FaultPostgres(diskMegabytes: diskMegabytes)
        var rig = FaultRig(postgres: postgres, endpoint: try await postgres.endpoint())
        do {
            for index in 0..<instances {
                let extra = index < extraFlags.count ? extraFlags[index] : []
                rig.servers.append(try await Docketd.start(rig.endpoint, flags + extra, folder: rig.folder))
            }
            try await body(&rig)
        } catch {
            for server in rig.servers { await server.kill() }
            await postgres.destroy()
            try? FileManager.default.removeItem(atPath: rig.folder)
            throw error
        }
        await postgres.destroy()
        try? FileManager.default.removeItem(atPath: rig.folder)
    }

    /// Starts one more instance with `flags` (on `url` instead of the server's own endpoint when given).
    mutating func add(url: String? = nil, _ extra: [String] = []) async throws -> Docketd {
        let target = try url.map(DatabaseEndpoint.init(url:)) ?? endpoint
        let server = try await Docketd.start(target, Self.flags + extra, folder: folder)
        servers.append(server)
        return server
    }

    /// Returns once a connection of the test's own gets an answer from the database.
    func waitUntilTheDatabaseAnswers(within: Duration = .seconds(60)) async throws {
        let endpoint = self.endpoint
        _ = try await eventually(within, every: .milliseconds(50)) { () -> Bool? in
            let answered = try? await endpoint.withConnection(logger: .init(label: "probe"), connectTimeout: .seconds(1)) { connection in
                _ = try await connection.query("SELECT 1", logger: .init(label: "probe")).collect()
                return true
            }
            return answered
        }
    }

    /// How long each instance took, from `since`, to answer a `job.create` with `ok` again (at most `within`).
    func timesToServe(since: ContinuousClock.Instant, within: Duration = .seconds(30)) async throws -> [Duration] {
        var times: [Duration] = []
        for server in servers {
            _ = try await eventually(within, every: .milliseconds(50)) { () -> Bool? in
                guard let client = try? await server.client() else { return nil }
                defer { Task { await client.close() } }
                return (try? await client.call("job.create", ["name": .string("probe"), "tenant_id": .string("probe")])) != nil ? true : nil
            }
            times.append(ContinuousClock.now - since)
        }
        return times
    }

    /// The checks every fault ends with: each `ok` create is stored, no answer came later than its deadline, no
    /// request was left unanswered, nothing leaked, one leader, no slot fired twice, and SIGTERM exits in time.
    func verify(_ outcomes: [CreateLoad.Outcome], clients: Int) async throws {
        let ok = outcomes.compactMap(\.jobId)
        let unanswered = outcomes.filter(\.unanswered).count
        let slowest = outcomes.map(\.waited).max() ?? .zero
        let codes = Dictionary(grouping: outcomes.compactMap(\.code), by: { $0 }).mapValues(\.count)
        print("fault figures: \(outcomes.count) creates, \(ok.count) ok, errors \(codes), slowest answer \(slowest), unanswered \(unanswered)")
        #expect(unanswered == 0, "every request was answered")
        #expect(slowest <= .milliseconds(Int(Self.requestTimeout * 1000)) + Self.answerMargin, "no answer later than its deadline")
        #expect(Set(codes.keys).isSubset(of: [.unavailable]), "a database fault answers UNAVAILABLE, never INTERNAL: \(codes)")
        // Every acknowledged create is in the table.
        let stored: Set<String> = try await withDatabase(endpoint) { database in
            try await database.read { connection in
                var ids = Set<String>()
                for try await id in try await connection.query("SELECT id::text FROM docket.jobs WHERE tenant_id = 'load'",
                                                               logger: database.logger).decode(String.self) { ids.insert(id) }
                return ids
            }
        }
        let lost = ok.filter { !stored.contains($0) }
        #expect(lost.isEmpty, "\(lost.count) acknowledged creates are missing")
        // No slot fired twice (the unique key guarantees it; the check reads what was written).
        let duplicates: Int = try await withDatabase(endpoint) { database in
            try await database.read { connection in
                try await connection.query("""
                    SELECT count(*)::int FROM (SELECT job_id, scheduled_for, attempt FROM docket.job_runs
                    GROUP BY 1, 2, 3 HAVING count(*) > 1) AS twice
                    """, logger: database.logger).collect().first?.decode(Int.self) ?? -1
            }
        }
        #expect(duplicates == 0, "no slot fired twice")
        // Nothing leaks: no request waits for or holds a connection, no client socket stays half-closed, and only the
        // load's clients (now gone) were connected.
        for (index, server) in servers.enumerated() {
            let settled = try? await eventually(.seconds(15), every: .milliseconds(100)) { () -> Bool? in
                let quiet = try server.metric("docket_db_pool_in_use") == 0 && server.metric("docket_db_pool_waiting") == 0
                    && server.metric("docket_connections") == 0 && server.closeWaitSockets == 0
                return quiet ? true : nil
            }
            if settled != true {
                let sockets = try? await Command(executable: "/usr/bin/env", arguments: ["ss", "-tanp"]).runAsync()
                print("DEBUG sockets of \(server.process.pid):\n" + (sockets?.text.split(separator: "\n").filter { $0.contains("pid=\(server.process.pid),") }.joined(separator: "\n") ?? ""))
            }
            #expect(settled == true, "instance \(index): pool in use \(String(describing: try? server.metric("docket_db_pool_in_use"))), waiting \(String(describing: try? server.metric("docket_db_pool_waiting"))), connections \(String(describing: try? server.metric("docket_connections"))), CLOSE-WAIT \(server.closeWaitSockets)")
        }
        // Exactly one leader.
        let leaders = try? await eventually(.seconds(20), every: .milliseconds(200)) { () -> Int? in
            let count = servers.reduce(0) { $0 + Int((try? $1.metric("docket_leader")) ?? 0) }
            return count == 1 ? count : nil
        }
        #expect(leaders == 1, "exactly one instance leads")
    }

    /// SIGTERM to every instance: each exits 0 within its shutdown grace plus the hard limit.
    func stopAll() async throws {
        let clock = ContinuousClock()
        for server in servers { server.process.signal(SIGTERM) }
        for (index, server) in servers.enumerated() {
            let began = clock.now
            let status = try? await server.process.wait(timeout: .seconds(12))
            if status == nil { await server.kill() }
            #expect(status != nil, "instance \(index) exits within shutdown-grace (5 s) + 5 s of SIGTERM")
            print("fault figures: instance \(index) exited \(clock.now - began) after SIGTERM with status \(status.map(String.init) ?? "none")")
        }
    }
}
