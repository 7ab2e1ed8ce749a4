import Foundation

/// One stored API key, without its secret.
public struct APIKeyRecord: Sendable, Hashable {
    public var id: String
    public var actor: Principal
    public var description: String?
    public var createdAt: Date
    public var expiresAt: Date?
    public var revokedAt: Date?
    public var lastUsedAt: Date?

    public init(id: String, actor: Principal, description: String?, createdAt: Date, expiresAt: Date? = nil,
                revokedAt: Date? = nil, lastUsedAt: Date? = nil) {
        self.id = id
        self.actor = actor
        self.description = description
        self.createdAt = createdAt
        self.expiresAt = expiresAt
        self.revokedAt = revokedAt
        self.lastUsedAt = lastUsedAt
    }
}
