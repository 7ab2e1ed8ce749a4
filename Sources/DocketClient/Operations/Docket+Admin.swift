import DocketCore
import Foundation

extension Docket {
    /// The queue operations (`queue.*`): settings and flow control.
    public var queues: Queues { Queues(docket: self) }

    public struct Queues: Sendable {
        let docket: Docket

        private func named(_ name: String, _ tenantId: String?) -> CallArguments {
            var fields = CallArguments(["queue": .string(name)])
            fields["tenant_id"] = tenantId.map(JSONValue.string)
            return fields
        }

        public func list(tenantId: String? = nil) async throws -> [Queue] {
            var fields = CallArguments()
            fields["tenant_id"] = tenantId.map(JSONValue.string)
            return try await docket.call(.queueList, fields.fields, member: "queues", as: [Queue].self)
        }

        public func get(_ name: String, tenantId: String? = nil) async throws -> Queue {
            try await docket.call(.queueGet, named(name, tenantId).fields, as: Queue.self)
        }

        /// Sets a queue's limits: `concurrency` and `rateLimit` as `.some(nil)` remove that limit; nil leaves it alone.
        public func update(_ name: String, concurrency: Int?? = nil, rateLimit: Queue.RateLimit?? = nil, weight: Int? = nil,
                           tenantId: String? = nil) async throws -> Queue {
            var fields = named(name, tenantId)
            if let concurrency { fields["concurrency"] = concurrency?.json ?? .null }
            if let rateLimit {
                fields["rate_limit"] = rateLimit.map { .object(["count": $0.count.json, "per_seconds": $0.perSeconds.json]) } ?? .null
            }
            fields["weight"] = weight?.json
            return try await docket.call(.queueUpdate, fields.fields, as: Queue.self)
        }

        public func pause(_ name: String, tenantId: String? = nil) async throws -> Queue {
            try await docket.call(.queuePause, named(name, tenantId).fields, as: Queue.self)
        }

        public func resume(_ name: String, tenantId: String? = nil) async throws -> Queue {
            try await docket.call(.queueResume, named(name, tenantId).fields, as: Queue.self)
        }
    }

    /// Budgets and the cluster (`budget.*`, `cluster.status`).
    public var admin: Admin { Admin(docket: self) }

    public struct Admin: Sendable {
        let docket: Docket

        /// `period`: `day`, `month` or `total`.
        public func setBudget(limit: Money, period: String, tenantId: String? = nil) async throws -> Budget {
            var fields = CallArguments(["limit": .string(limit.description), "period": .string(period)])
            fields["tenant_id"] = tenantId.map(JSONValue.string)
            return try await docket.call(.budgetSet, fields.fields, as: Budget.self)
        }

        public func budget(tenantId: String? = nil) async throws -> Budget {
            var fields = CallArguments()
            fields["tenant_id"] = tenantId.map(JSONValue.string)
            return try await docket.call(.budgetGet, fields.fields, as: Budget.self)
        }

        public func clusterStatus() async throws -> ClusterStatus { try await docket.call(.clusterStatus, as: ClusterStatus.self) }
    }

    /// `events.list`'s answer: a page of stored events and where the next page starts.
    public struct EventPage: Codable, Sendable, Hashable {
        public var events: [Event]
        public var nextAfterSeq: Int64
    }

    /// Stored events after `afterSeq`, oldest first.
    public func events(after afterSeq: Int64 = 0, topics: [String]? = nil, limit: Int? = nil, tenantId: String? = nil) async throws -> EventPage {
        var fields = CallArguments(["after_seq": .number(Double(afterSeq))])
        fields["topics"] = topics?.json
        fields["limit"] = limit?.json
        fields["tenant_id"] = tenantId.map(JSONValue.string)
        return try await call(.eventsList, fields.fields, as: EventPage.self)
    }

    /// Who the server is (`hello`).
    public func hello() async throws -> ServerInfo { try await call(.hello, as: ServerInfo.self) }

    /// The instance that answered (`ping`).
    public func ping() async throws -> String {
        let answer = try await call(.ping)
        return answer["instance_id"]?.stringValue ?? ""
    }

    /// Who this client acts as. The client authenticates by itself with `Options.token` on every connection; this
    /// checks a key without changing the connection's actor when it is refused.
    public func whoAmI() async throws -> Actor {
        guard let token = options.token else { throw DocketError(.unauthenticated, "the client has no API key") }
        return try await call(.auth, ["token": .string(token)], member: "actor", as: Actor.self)
    }
}
