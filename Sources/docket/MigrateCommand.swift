import ArgumentParser
import DocketCore
import DocketPostgres
import Foundation
import Logging

struct Migrate: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Apply the schema migrations, or show which are applied.",
        subcommands: [Apply.self, Status.self],
        defaultSubcommand: Apply.self
    )

    struct Apply: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Apply every pending migration (safe to run twice).")

        @OptionGroup var options: ConnectionOptions

        func run() async throws {
            let endpoint = try await options.endpoint(logger: .cli)
            let runner = MigrationRunner(logger: .cli)
            let applied = try await endpoint.withConnection(logger: .cli) { try await runner.migrate(on: $0) }
            let latest = runner.migrations.last?.version ?? 0
            if options.json {
                try printJSON(["database": .string(endpoint.description), "applied": .array(applied.map { .number(Double($0)) }),
                               "version": .number(Double(latest))])
            } else if applied.isEmpty {
                print("Up to date at version \(latest) (\(endpoint)).")
            } else {
                let names = runner.migrations.filter { applied.contains($0.version) }.map(\.fileName)
                print("Applied \(applied.count) migration(s) to \(endpoint): \(names.joined(separator: ", ")).")
            }
        }
    }

    struct Status: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List applied and pending migrations.")

        @OptionGroup var options: ConnectionOptions

        func run() async throws {
            let endpoint = try await options.endpoint(logger: .cli)
            let runner = MigrationRunner(logger: .cli)
            let status = try await endpoint.withConnection(logger: .cli) { try await runner.status(on: $0) }
            if options.json {
                try printJSON(["database": .string(endpoint.description), "version": .number(Double(status.currentVersion)),
                               "migrations": .array(status.entries.map(\.json))])
                return
            }
            print("Database \(endpoint) is at version \(status.currentVersion); \(status.pending.count) pending.")
            print(Table(
                header: ["VERSION", "NAME", "STATE", "APPLIED AT"],
                rows: status.entries.map { [String($0.version), $0.name, $0.state, $0.appliedAt.map { $0.formatted(.iso8601) } ?? "-"] }
            ).rendered)
        }
    }
}

extension MigrationStatus.Entry {
    var state: String {
        if !known { return "applied (unknown to this build)" }
        if appliedAt == nil { return "pending" }
        return checksumMatches == false ? "applied (file changed since)" : "applied"
    }

    var json: JSONValue {
        .object([
            "version": .number(Double(version)), "name": .string(name), "state": .string(state),
            "applied_at": appliedAt.map { .string($0.formatted(.iso8601)) } ?? .null,
        ])
    }
}
