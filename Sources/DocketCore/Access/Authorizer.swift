/// The one permission check: (actor, operation, resource tenant, resource owner) → allowed or `PERMISSION_DENIED`.
public enum Authorizer {
    /// Checks that `actor` may perform `operation` on a resource of `tenant` owned by `owner` (tasks only).
    ///
    /// Pass `tenant: nil` for operations not bound to one resource (the tenant then comes from `Principal.tenant(for:)`).
    public static func check(
        _ actor: Principal,
        _ operation: ServiceOperation,
        tenant: String? = nil,
        owner: String? = nil
    ) throws(DocketError) {
        if let tenant, !actor.reaches(tenant: tenant) {
            throw crossTenant(actor, tenant)
        }
        guard let needed = operation.requiredScope else { return }
        if actor.holds(needed) { return }
        if operation.isOwnerOperation, let owner, owner == actor.id, actor.holds(.taskRead) { return }
        let held = actor.effectiveScopes
        let has = held.isEmpty ? "none" : held.map(\.rawValue).sorted().joined(separator: ", ")
        throw DocketError(
            .permissionDenied,
            "actor \(actor.id) lacks \(needed.rawValue) for \(operation.name) (has \(has))",
            details: ["actor_id": .string(actor.id), "operation": .string(operation.name),
                      "required_scope": .string(needed.rawValue)]
        )
    }

    /// Whether the check passes, for filtering (event delivery, listings).
    public static func allows(_ actor: Principal, _ operation: ServiceOperation, tenant: String? = nil, owner: String? = nil) -> Bool {
        do { try check(actor, operation, tenant: tenant, owner: owner); return true } catch { return false }
    }

    /// The refusal for reaching into another tenant.
    public static func crossTenant(_ actor: Principal, _ tenant: String) -> DocketError {
        DocketError(
            .permissionDenied,
            "actor \(actor.id) of tenant \(actor.tenantId) cannot reach tenant \(tenant)",
            details: ["actor_id": .string(actor.id), "tenant_id": .string(tenant)]
        )
    }
}
