import Foundation

/// A tenant's spending limit over a period (SPEC 2.2 budget gate).
public struct Budget: Sendable, Hashable {
    public enum Period: String, Sendable, Hashable, CaseIterable { case day, month, total }

    public var tenantId: String
    public var limit: Money
    public var period: Period

    public init(tenantId: String, limit: Money, period: Period) {
        self.tenantId = tenantId
        self.limit = limit
        self.period = period
    }

    /// Where the current period began (UTC), or nil for `total`.
    public func periodStart(now: Date) -> Date? {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(identifier: "UTC")!
        switch period {
        case .day: return calendar.startOfDay(for: now)
        case .month: return calendar.date(from: calendar.dateComponents([.year, .month], from: now))
        case .total: return nil
        }
    }

    /// Refuses with `BUDGET_EXCEEDED` when `spent` plus `cost` would pass the limit (reaching it exactly is allowed).
    public func admit(spent: Money, cost: Money, jobId: String) throws(DocketError) {
        let total = spent + cost
        guard total <= limit else {
            throw DocketError(.budgetExceeded,
                "job \(jobId) would bring tenant \(tenantId)'s \(period.rawValue) spend to \(total), past its limit \(limit)",
                details: ["tenant_id": .string(tenantId), "limit": .string(limit.description),
                          "spent": .string(spent.description), "cost": .string(cost.description)])
        }
    }

}
