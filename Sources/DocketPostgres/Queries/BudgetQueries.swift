import DocketCore
import Foundation
import Logging
import PostgresNIO

/// Statements on `docket.budgets`.
public struct BudgetQueries: Sendable {
    let connection: PostgresConnection
    let logger: Logger

    public init(_ connection: PostgresConnection, logger: Logger) {
        self.connection = connection
        self.logger = logger
    }

    public func upsert(_ budget: Budget, by actor: String) async throws {
        try await connection.query("""
            INSERT INTO docket.budgets (tenant_id, limit_amount, period, updated_by, updated_at)
            VALUES (\(budget.tenantId), \(budget.limit.description)::numeric, \(budget.period.rawValue), \(actor), now())
            ON CONFLICT (tenant_id) DO UPDATE SET limit_amount = EXCLUDED.limit_amount, period = EXCLUDED.period,
                updated_by = EXCLUDED.updated_by, updated_at = now()
            """, logger: logger)
    }

    /// The tenant's budget; with `lock`, held until the transaction ends so concurrent starts are gated in turn.
    public func find(tenant: String, lock: Bool = false) async throws -> Budget? {
        let query: PostgresQuery = lock
            ? "SELECT limit_amount, period FROM docket.budgets WHERE tenant_id = \(tenant) FOR UPDATE"
            : "SELECT limit_amount, period FROM docket.budgets WHERE tenant_id = \(tenant)"
        guard let row = try await connection.query(query, logger: logger).collect().first else { return nil }
        let (limit, period) = try row.decode((Decimal, String).self)
        return Budget(tenantId: tenant, limit: try Money(column: limit, field: "limit"),
                      period: Budget.Period(rawValue: period) ?? .total)
    }
}
