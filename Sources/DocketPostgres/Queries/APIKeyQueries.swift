import DocketCore
import Foundation
import Logging
import NIOCore
import PostgresNIO

/// Statements on `docket.api_keys` and `docket.server_secrets`.
public struct APIKeyQueries: Sendable {
    let connection: PostgresConnection
    let logger: Logger

    public init(_ connection: PostgresConnection, logger: Logger) {
        self.connection = connection
        self.logger = logger
    }

    /// A key as stored: its record and the hash of its secret.
    public struct Stored: Sendable {
        public var record: APIKeyRecord
        public var hash: [UInt8]
    }

    public func insert(_ record: APIKeyRecord, hash: [UInt8]) async throws {
        let actor = record.actor
        try await connection.query("""
            INSERT INTO docket.api_keys (id, key_hash, actor_id, actor_type, tenant_id, scopes, description, created_at, expires_at)
            VALUES (\(record.id), \(ByteBuffer(bytes: hash)), \(actor.id), \(actor.type.rawValue), \(actor.tenantId),
                \(actor.scopes.map(\.rawValue).sorted()), \(record.description), \(record.createdAt), \(record.expiresAt))
            """, logger: logger)
    }

    static let columns = "id, actor_id, actor_type, tenant_id, scopes, description, created_at, expires_at, revoked_at, last_used_at, key_hash"

    public func find(id: String) async throws -> Stored? {
        try await connection.query("SELECT \(unescaped: Self.columns) FROM docket.api_keys WHERE id = \(id)", logger: logger)
            .collect().first.map(Self.decode)
    }

    /// Every key, newest first (optionally one tenant's).
    public func list(tenant: String?) async throws -> [APIKeyRecord] {
        try await connection.query("""
            SELECT \(unescaped: Self.columns) FROM docket.api_keys WHERE (\(tenant)::text IS NULL OR tenant_id = \(tenant))
            ORDER BY created_at DESC, id
            """, logger: logger).collect().map { try Self.decode($0).record }
    }

    public func markUsed(id: String) async throws {
        try await connection.query("UPDATE docket.api_keys SET last_used_at = now() WHERE id = \(id)", logger: logger)
    }

    /// Revokes a key (keeping the first revocation's time); false when there is no such key.
    public func revoke(id: String) async throws -> Bool {
        !(try await connection.query("""
            UPDATE docket.api_keys SET revoked_at = coalesce(revoked_at, now()) WHERE id = \(id) RETURNING id
            """, logger: logger).collect().isEmpty)
    }

    /// Whether an unrevoked key with this description exists (the bootstrap key).
    public func hasLiveKey(described description: String) async throws -> Bool {
        !(try await connection.query(
            "SELECT 1 FROM docket.api_keys WHERE description = \(description) AND revoked_at IS NULL", logger: logger
        ).collect().isEmpty)
    }

    /// The server secret `name` (`api_key_hmac`), or nil.
    public func serverSecret(_ name: String) async throws -> [UInt8]? {
        let value = try await connection.query("SELECT value FROM docket.server_secrets WHERE name = \(name)", logger: logger)
            .collect().first?.decode(ByteBuffer.self)
        return value.map { Array($0.readableBytesView) }
    }

    static func decode(_ row: PostgresRow) throws -> Stored {
        let (id, actorId, type, tenant, scopes, description, created, expires, revoked, used, hash) =
            try row.decode((String, String, String, String, [String], String?, Date, Date?, Date?, Date?, ByteBuffer).self)
        let actor = Principal(id: actorId, type: Principal.Kind(rawValue: type) ?? .user, tenantId: tenant,
                              scopes: Set(scopes.compactMap(Scope.init(rawValue:))))
        let record = APIKeyRecord(id: id, actor: actor, description: description, createdAt: created, expiresAt: expires,
                                  revokedAt: revoked, lastUsedAt: used)
        return Stored(record: record, hash: Array(hash.readableBytesView))
    }
}
