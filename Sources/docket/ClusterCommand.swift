import ArgumentParser
import DocketCore
import Foundation

/// `docket cluster status`: the instances, the leader and its term, and the sweeps' last passes.
struct Cluster: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Inspect the cluster through docketd.", subcommands: [Status.self])

    struct Status: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Instances, leader and sweeps.")
        @OptionGroup var server: ServerOptions

        func run() async throws {
            try await server.run("cluster.status", [:]) { status in
                let leader = status["leader"] ?? .null
                var text = "Leader: \(leader["instance_id"]?.cell ?? "none") (epoch \(leader["epoch"]?.cell ?? "-"), "
                    + "since \(leader["since"]?.cell ?? "-"), heartbeat \(leader["heartbeat_at"]?.cell ?? "-"))\n\n"
                text += table(status["instances"]?.items ?? [], ["id", "status", "address", "version", "pid", "heartbeat_at"])
                if case .object(let sweeps)? = status["sweeps"], !sweeps.isEmpty {
                    let rows = sweeps.keys.sorted().map { kind -> JSONValue in
                        guard case .object(var fields) = sweeps[kind]! else { return .null }
                        fields["kind"] = .string(kind)
                        return .object(fields)
                    }
                    text += "\n\n" + table(rows, ["kind", "last_run_at", "changed", "total_changed", "duration_ms", "epoch"])
                }
                return text
            }
        }
    }
}
