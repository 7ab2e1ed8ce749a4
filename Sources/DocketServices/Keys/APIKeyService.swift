import Crypto
import DocketCore
import DocketPostgres
import Foundation
import Logging
import NIOCore
import PostgresNIO
import Synchronization

/// API keys (SPEC 3.2): `dk_<id>_<secret>`, the secret 256 random bits in base62; only HMAC-SHA256(server secret,
/// key secret) is stored, and it is compared in constant time. Expiry and revocation count at the next `auth`.
public struct APIKeyService: Sendable {
    let database: Database
    private let secret = SecretCache()
    var logger: Logger { database.logger }

    public init(database: Database) { self.database = database }

    /// Creates a key for `actor`; the returned token is shown once and never stored.
    public func create(for actor: Principal, description: String? = nil, expiresAt: Date? = nil) async throws -> (token: String, record: APIKeyRecord) {
        guard !actor.id.isEmpty, !actor.tenantId.isEmpty else {
            throw DocketError.validation(field: "actor", "needs an id and a tenant")
        }
        let id = Base62.random(length: 12)
        let keySecret = Base62.random(length: 43)  // 43 base62 digits ≥ 256 bits
        let hash = try await hmac(keySecret)
        let record = APIKeyRecord(id: id, actor: actor, description: description, createdAt: Date().storedPrecision, expiresAt: expiresAt)
        try await database.transaction { connection in
            try await APIKeyQueries(connection, logger: logger).insert(record, hash: hash)
        }
        return ("dk_\(id)_\(keySecret)", record)
    }

    /// The actor a token establishes, or `UNAUTHENTICATED` (saying no more than that, whatever was wrong).
    public func authenticate(_ token: String) async throws -> Principal {
        let refused = DocketError(.unauthenticated, "invalid, expired or revoked API key")
        let parts = token.split(separator: "_", omittingEmptySubsequences: false)
        guard parts.count == 3, parts[0] == "dk", parts[1].count == 12, parts[2].count == 43 else { throw refused }
        let (id, keySecret) = (String(parts[1]), String(parts[2]))
        let expected = try await hmac(keySecret)
        let now = Date()
        let stored = try await database.read { connection in try await APIKeyQueries(connection, logger: logger).find(id: id) }
        guard let stored, stored.hash.count == expected.count, Self.constantTimeEqual(stored.hash, expected) else { throw refused }
        let record = stored.record
        guard record.revokedAt == nil, record.expiresAt.map({ $0 > now }) ?? true else { throw refused }
        _ = try? await database.transaction { connection in try await APIKeyQueries(connection, logger: logger).markUsed(id: id) }
        return record.actor
    }

    /// Every key, newest first (optionally one tenant's).
    public func list(tenant: String? = nil) async throws -> [APIKeyRecord] {
        try await database.read { connection in try await APIKeyQueries(connection, logger: logger).list(tenant: tenant) }
    }

    /// Revokes a key; `NOT_FOUND` when there is no such key. Revoking twice keeps the first time.
    public func revoke(_ id: String) async throws {
        let found = try await database.transaction { connection in try await APIKeyQueries(connection, logger: logger).revoke(id: id) }
        guard found else { throw DocketError(.notFound, "no API key \(id)") }
    }

    private func hmac(_ keySecret: String) async throws -> [UInt8] {
        let key = try await serverSecret()
        return Array(HMAC<SHA256>.authenticationCode(for: Data(keySecret.utf8), using: key))
    }

    private func serverSecret() async throws -> SymmetricKey {
        if let cached = secret.key.withLock({ $0 }) { return cached }
        let bytes = try await database.read { connection in
            try await APIKeyQueries(connection, logger: logger).serverSecret("api_key_hmac")
        }
        guard let bytes else { throw DocketError(.internal, "the API-key secret is missing: run docket migrate") }
        let key = SymmetricKey(data: bytes)
        secret.key.withLock { $0 = key }
        return key
    }

    static func constantTimeEqual(_ a: [UInt8], _ b: [UInt8]) -> Bool {
        var difference: UInt8 = 0
        for (x, y) in zip(a, b) { difference |= x ^ y }
        return difference == 0 && a.count == b.count
    }
}

/// The server secret once read, shared by copies of the service.
final class SecretCache: Sendable {
    let key = Mutex<SymmetricKey?>(nil)
}

/// Random base62 strings from the system's cryptographically secure generator.
enum Base62 {
    static let alphabet = Array("0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz")

    static func random(length: Int) -> String {
        var generator = SystemRandomNumberGenerator()
        return String((0..<length).map { _ in alphabet[Int.random(in: 0..<62, using: &generator)] })
    }
}
