import ArgumentParser
import DocketCore
import Foundation

/// `docket queues list|show|pause|resume|set`: a tenant's queues and their flow control, through docketd.
struct Queues: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Show and change queues: limits, pause, weight.", subcommands: [List.self, Show.self, Pause.self, Resume.self, Set.self])

    /// One row per queue: its settings, then its jobs by state.
    static func rows(_ queues: [JSONValue]) -> [JSONValue] {
        queues.map { queue in
            guard case .object(var fields) = queue else { return queue }
            if case .object(let counts)? = fields.removeValue(forKey: "counts") { fields.merge(counts) { $1 } }
            if case .object(let rate)? = fields["rate_limit"] {
                fields["rate_limit"] = .string("\(rate["count"]?.cell ?? "?")/\(rate["per_seconds"]?.cell ?? "?")s")
            }
            return .object(fields)
        }
    }

    static let columns = ["queue", "paused", "concurrency", "rate_limit", "weight", "available", "scheduled", "running", "failed",
                          "oldest_available_since"]

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Every queue of the tenant, with its counts.")
        @OptionGroup var server: ServerOptions

        func run() async throws {
            try await server.run("queue.list", [:]) { table(Queues.rows($0["queues"]?.items ?? []), Queues.columns) }
        }
    }

    struct Show: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "One queue.")
        @OptionGroup var server: ServerOptions
        @Argument(help: "Queue name.") var queue: String

        func run() async throws {
            try await server.run("queue.get", ["queue": .string(queue)]) { fields(Queues.rows([$0])[0]) }
        }
    }

    struct Pause: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Start nothing more of the queue (running jobs go on).")
        @OptionGroup var server: ServerOptions
        @Argument(help: "Queue name.") var queue: String

        func run() async throws {
            try await server.run("queue.pause", ["queue": .string(queue)]) { _ in "Queue \(queue) is paused." }
        }
    }

    struct Resume: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Start the queue's jobs again.")
        @OptionGroup var server: ServerOptions
        @Argument(help: "Queue name.") var queue: String

        func run() async throws {
            try await server.run("queue.resume", ["queue": .string(queue)]) { _ in "Queue \(queue) runs again." }
        }
    }

    struct Set: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Set a queue's limits and weight (`none` clears a limit).")
        @OptionGroup var server: ServerOptions
        @Argument(help: "Queue name.") var queue: String
        @Option(help: "At most this many running at once, or none.") var concurrency: String?
        @Option(help: "At most COUNT/SECONDS starts, e.g. 10/1, or none.") var rateLimit: String?
        @Option(help: "Share of fair-share claims (1 or more).") var weight: Int?

        func run() async throws {
            var args: [String: JSONValue] = ["queue": .string(queue)]
            if let concurrency {
                guard concurrency == "none" || Int(concurrency) != nil else { throw ValidationError("--concurrency is a number or none") }
                args["concurrency"] = Int(concurrency).map { .number(Double($0)) } ?? .null
            }
            if let rateLimit {
                let parts = rateLimit.split(separator: "/").map { Int($0.trimmingCharacters(in: CharacterSet(charactersIn: "s "))) }
                if rateLimit == "none" {
                    args["rate_limit"] = .null
                } else if parts.count == 2, let count = parts[0], let per = parts[1] {
                    args["rate_limit"] = .object(["count": .number(Double(count)), "per_seconds": .number(Double(per))])
                } else {
                    throw ValidationError("--rate-limit is COUNT/SECONDS (10/1) or none")
                }
            }
            if let weight { args["weight"] = .number(Double(weight)) }
            try await server.run("queue.update", args) { fields(Queues.rows([$0])[0]) }
        }
    }
}
