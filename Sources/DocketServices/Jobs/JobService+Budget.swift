import DocketCore
import DocketPostgres
import Foundation

extension JobService {
    /// `budget.set`: a tenant's limit and period (`cluster:admin`).
    public func setBudget(limit: Money, period: Budget.Period, tenant requested: String? = nil, by actor: Principal) async throws -> Budget {
        let tenant = try actor.tenant(for: requested)
        try Authorizer.check(actor, .budgetSet, tenant: tenant)
        let budget = Budget(tenantId: tenant, limit: limit, period: period)
        try await database.transaction { connection in
            try await BudgetQueries(connection, logger: logger).upsert(budget, by: actor.id)
        }
        return budget
    }

    /// `budget.get`: the budget with what the current period has spent; `NOT_FOUND` when the tenant has none.
    public func budget(tenant requested: String? = nil, by actor: Principal) async throws -> (budget: Budget, spent: Money) {
        let tenant = try actor.tenant(for: requested)
        try Authorizer.check(actor, .budgetGet, tenant: tenant)
        let now = clock()
        return try await database.read { connection in
            guard let budget = try await BudgetQueries(connection, logger: logger).find(tenant: tenant) else {
                throw DocketError(.notFound, "tenant \(tenant) has no budget")
            }
            let spent = try await JobQueries(connection, logger: logger)
                .spend(tenant: tenant, since: budget.periodStart(now: now), excluding: UUID())
            return (budget, spent)
        }
    }
}
