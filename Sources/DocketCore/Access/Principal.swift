/// The actor of SPEC 2.1, who performs an operation: established from an API key, never from what a client claims (SPEC 2.1).
public struct Principal: Sendable, Hashable, Codable {
    public enum Kind: String, Sendable, Hashable, CaseIterable, Codable {
        case user, agent, service, system
    }

    public var id: String
    public var type: Kind
    public var tenantId: String
    public var scopes: Set<Scope>

    public init(id: String, type: Kind, tenantId: String, scopes: Set<Scope>) {
        self.id = id
        self.type = type
        self.tenantId = tenantId
        self.scopes = scopes
    }

    /// System actors reach every tenant.
    public var isSystem: Bool { type == .system }

    /// The scopes this actor holds, implications applied.
    public var effectiveScopes: Set<Scope> { Scope.effective(scopes) }

    /// Whether the actor holds `scope`, directly or implied (no set is built: this runs for every check).
    public func holds(_ scope: Scope) -> Bool { scopes.contains { $0.grants(scope) } }

    /// Whether the actor may touch rows of `tenantId`.
    public func reaches(tenant tenantId: String) -> Bool { isSystem || tenantId == self.tenantId }

    /// The tenant an operation acts in: the actor's own, or for a system actor the one it names.
    ///
    /// A non-system actor naming another tenant is `PERMISSION_DENIED`; a system actor naming none where one is
    /// needed is `VALIDATION_ERROR` on `tenant_id`.
    public func tenant(for requested: String?) throws(DocketError) -> String {
        if let requested, !requested.isEmpty {
            guard reaches(tenant: requested) else { throw Authorizer.crossTenant(self, requested) }
            return requested
        }
        guard !isSystem else {
            throw .validation(field: "tenant_id", "required for system actor \(id)")
        }
        return tenantId
    }
}
