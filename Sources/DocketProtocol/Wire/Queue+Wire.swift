import DocketCore

extension Queue: WireEncodable {
    /// `{tenant_id, queue, concurrency, rate_limit, paused, weight, updated_at, counts}`.
    public var wire: JSONValue {
        .object([
            "tenant_id": .string(tenantId), "queue": .string(name),
            "concurrency": concurrency.map { .number(Double($0)) } ?? .null,
            "rate_limit": rateLimit.map { .object(["count": .number(Double($0.count)), "per_seconds": .number(Double($0.perSeconds))]) } ?? .null,
            "paused": .bool(paused), "weight": .number(Double(weight)), "updated_at": updatedAt.wire,
            "counts": .object([
                "available": .number(Double(counts.available)), "scheduled": .number(Double(counts.scheduled)),
                "running": .number(Double(counts.running)), "failed": .number(Double(counts.failed)),
                "oldest_available_since": counts.oldestAvailableSince.wire,
            ]),
        ])
    }
}
