import DocketClient
import DocketCore
import DocketPostgres
import DocketTestSupport
import Foundation
import Testing

/// `deploy/local-cluster` as an operator runs it: three instances come up, exactly one leads, stop leaves nothing.
struct LocalClusterTests {
    @Test func localClusterStartsThreeWithOneLeaderAndStopsClean() async throws {
        let root = PackagePaths.root
        let docketd = try PackagePaths.docketd
        let folder = "/tmp/docket-local-cluster-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
        defer { try? FileManager.default.removeItem(atPath: folder) }
        func script(_ command: String, base: Int) async throws -> Command.Output {
            try await Command(executable: "/usr/bin/env", arguments: [
                "DOCKET_CLUSTER_DIR=\(folder)", "DOCKET_CLUSTER_BASE_PORT=\(base)", "DOCKETD_BIN=\(docketd)",
                "DOCKET_BIN=\(docketd.replacingOccurrences(of: "/docketd", with: "/docket"))",
                root + "/deploy/local-cluster", command,
            ]).runAsync()
        }
        var base = 0
        var started: Command.Output?
        for _ in 0..<3 {
            base = Int.random(in: 400...600) * 100
            let output = try await script("start", base: base)
            if output.status == 0 { started = output; break }
            if !output.text.contains("already in use") { started = output; break }
        }
        let start = try #require(started)
        #expect(start.status == 0, "start: \(start.text)")
        guard start.status == 0 else {
            _ = try? await script("stop", base: base)
            return
        }
        let token = try String(contentsOfFile: folder + "/data/admin.key", encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines)
        #expect(start.text.contains("127.0.0.1:\(base)") && start.text.contains(token), "prints addresses and the admin key")

        var roles: [String] = []
        _ = try? await eventually(.seconds(20), every: .milliseconds(200)) { () async -> Bool? in
            roles = []
            for port in [base, base + 10, base + 20] {
                guard let client = try? await DocketClient.connect(host: "127.0.0.1", port: port, token: token) else { continue }
                if case .string(let role)? = try? await client.call("cluster.status")["this_instance"]?["role"] { roles.append(role) }
                await client.close()
            }
            return roles.count == 3 && roles.filter({ $0 == "leader" }).count == 1 ? true : nil
        }
        #expect(roles.count == 3, "three instances answer: \(roles)")
        #expect(roles.filter { $0 == "leader" }.count == 1, "exactly one leads: \(roles)")

        let stop = try await script("stop", base: base)
        #expect(stop.status == 0, "stop leaves no process: \(stop.text)")
        let left = try await Command(executable: "/usr/bin/pgrep", arguments: ["-f", folder]).runAsync()
        #expect(left.text.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty, "nothing of the cluster runs: \(left.text)")
    }
}
