import DocketClient
import DocketCore
import DocketPostgres
import Foundation

/// Several docketd instances on one database, and what the cluster says about its leader.
public enum Cluster {
    /// Starts `count` instances sharing a fresh database (and a data folder for the bootstrap key); afterwards
    /// SIGTERMs them and throws if one does not exit.
    public static func with(
        _ count: Int = 3, _ flags: [String] = [], _ body: @Sendable ([Docketd], DatabaseEndpoint) async throws -> Void
    ) async throws {
        try await withTestDatabase(migrated: false) { endpoint in
            try await with(count, on: endpoint, flags, body)
        }
    }

    /// Like `with(_:_:_:)`, on a given database.
    public static func with(
        _ count: Int, on endpoint: DatabaseEndpoint, _ flags: [String] = [],
        _ body: @Sendable ([Docketd], DatabaseEndpoint) async throws -> Void
    ) async throws {
        let folder = "/tmp/docketd-cluster-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
        var servers: [Docketd] = []
        do {
            for _ in 0..<count { servers.append(try await Docketd.start(endpoint, flags, folder: folder)) }
            try await body(servers, endpoint)
        } catch {
            for server in servers { await server.kill() }
            try? FileManager.default.removeItem(atPath: folder)
            throw error
        }
        for server in servers { server.process.signal(SIGTERM) }
        var stuck = 0
        for server in servers {
            if (try? await server.process.wait(timeout: .seconds(25))) == nil {
                stuck += 1
                print("instance \(server.process.pid) did not exit on SIGTERM; its last output:\n"
                      + server.process.output.suffix(40).joined(separator: "\n"))
                await server.kill()
            }
        }
        try? FileManager.default.removeItem(atPath: folder)
        guard stuck == 0 else { throw DocketError(.internal, "\(stuck) instance(s) did not exit on SIGTERM") }
    }

    /// The leader as the cluster reports it: its instance id and epoch (nil while nobody leads).
    public static func leader(via server: Docketd) async throws -> (instance: String, epoch: Int)? {
        let client = try await server.client()
        defer { Task { await client.close() } }
        let status = try await client.call("cluster.status")
        guard case .string(let instance)? = status["leader"]?["instance_id"],
              case .number(let epoch)? = status["leader"]?["epoch"] else { return nil }
        return (instance, Int(epoch))
    }

    public static func instanceId(of server: Docketd) async throws -> String {
        let client = try await server.client()
        defer { Task { await client.close() } }
        guard case .string(let id)? = try await client.call("hello")["instance_id"] else { return "" }
        return id
    }

    /// Waits until `condition` holds for the reported leader, returning it and how long it took.
    public static func waitForLeader(
        via server: Docketd, timeout: Duration = .seconds(15), _ condition: (String, Int) -> Bool = { _, _ in true }
    ) async throws -> (instance: String, epoch: Int, after: Duration) {
        let clock = ContinuousClock()
        let started = clock.now
        let found = try await eventually(timeout) { () -> (String, Int)? in
            guard let current = try? await leader(via: server), condition(current.instance, current.epoch) else { return nil }
            return current
        }
        return (found.0, found.1, clock.now - started)
    }

    /// How many of `servers` believe they lead (`cluster.status`'s `this_instance.role`); unreachable ones count 0.
    public static func leaderCount(_ servers: [Docketd]) async -> Int {
        var count = 0
        for server in servers {
            guard let client = try? await server.client() else { continue }
            if (try? await client.call("cluster.status"))?["this_instance"]?["role"] == .string("leader") { count += 1 }
            await client.close()
        }
        return count
    }
}
