import ArgumentParser
import DocketCore
import DocketPostgres
import DocketProtocol
import DocketServices
import Foundation
import Logging
import PostgresNIO

/// `docket keys create|list|revoke`: API keys, managed on the database directly (so they work before any server runs).
struct Keys: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Create, list and revoke API keys (directly on the database).",
        subcommands: [Create.self, List.self, Revoke.self])

    struct Create: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Create a key; its token is printed once.")
        @OptionGroup var connection: ConnectionOptions
        @Option(help: "Actor id the key establishes.") var actor: String
        @Option(help: "Actor type: user, agent, service or system.") var type: String = "service"
        @Option(help: "Tenant of the actor.") var tenant: String
        @Option(help: "Comma-separated scopes, e.g. job:execute,task:read.") var scopes: String
        @Option(help: "What the key is for.") var description: String?
        @Option(help: "Days until the key expires.") var expiresInDays: Int?

        func run() async throws {
            guard let kind = Principal.Kind(rawValue: type) else {
                throw ValidationError("--type must be user, agent, service or system")
            }
            let parsed = try scopes.split(separator: ",").map { try Scope.parse(String($0).trimmingCharacters(in: .whitespaces)) }
            let principal = Principal(id: actor, type: kind, tenantId: tenant, scopes: Set(parsed))
            let expires = expiresInDays.map { Date().addingTimeInterval(Double($0) * 86_400) }
            let (token, record) = try await connection.withKeys { try await $0.create(for: principal, description: description, expiresAt: expires) }
            if connection.json {
                guard case .object(var fields) = record.wire else { return }
                fields["token"] = .string(token)
                try printJSON(fields)
            } else {
                print("Created key \(record.id) for \(actor) (\(type), tenant \(tenant)). Token, shown once:\n  \(token)")
            }
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List keys (never their secrets).")
        @OptionGroup var connection: ConnectionOptions
        @Option(help: "Only this tenant's keys.") var tenant: String?

        func run() async throws {
            let records = try await connection.withKeys { try await $0.list(tenant: tenant) }
            if connection.json {
                try printJSON(["keys": .array(records.map(\.wire))])
            } else {
                print(table(records.map(\.wire), ["id", "actor_id", "actor_type", "tenant_id", "expires_at", "revoked_at", "description"]))
            }
        }
    }

    struct Revoke: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Revoke a key: it fails at its next auth.")
        @OptionGroup var connection: ConnectionOptions
        @Argument(help: "Key id (the part after dk_).") var id: String

        func run() async throws {
            try await connection.withKeys { try await $0.revoke(id) }
            if connection.json { try printJSON(["revoked": .string(id)]) } else { print("Revoked key \(id).") }
        }
    }
}

extension ConnectionOptions {
    /// Runs `body` with the key service on a short-lived pool.
    func withKeys<T: Sendable>(_ body: @Sendable (APIKeyService) async throws -> T) async throws -> T {
        let endpoint = try await endpoint(logger: .cli)
        return try await Database.with(endpoint, size: 2, logger: .cli) { database in
            try await body(APIKeyService(database: database))
        }
    }
}
