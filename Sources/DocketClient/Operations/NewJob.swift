import DocketCore
import Foundation

extension Docket {
    /// The fields of a job to create (`job.create`); what is left nil takes the server's default.
    public struct NewJob: SettableJobFields, Sendable, Hashable {
        public var name: String
        public var kind: String?
        public var queue: String?
        public var args: [String: JSONValue]?
        public var description: String?
        /// 1–100, or a name (`CRITICAL`, `HIGH`, `MEDIUM`, `LOW`, `BACKGROUND`).
        public var priority: JSONValue?
        /// A schedule object (SPEC 2.4): `{"kind": "once", "run_at": …}`, `{"kind": "interval", "every_seconds": …}`,
        /// `{"kind": "cron", "expression": …, "timezone": …}`.
        public var schedule: JSONValue?
        public var assignedAgent: String?
        public var executionContext: [String: JSONValue]?
        public var estimatedCost: Money?
        public var timeoutSeconds: Int?
        public var planId: String?
        public var planStepIndex: Int?
        public var metadata: [String: JSONValue]?
        public var callbackUrl: String?
        /// `{max_attempts, initial_backoff_seconds, max_backoff_seconds, jitter}` (SPEC 4.3).
        public var retryPolicy: JSONValue?
        public var idempotencyKey: String?
        /// Another tenant's job (an admin key only).
        public var tenantId: String?

        public init(name: String, kind: String? = nil, queue: String? = nil, args: [String: JSONValue]? = nil) {
            self.name = name
            self.kind = kind
            self.queue = queue
            self.args = args
        }

        /// A job that runs as soon as a worker takes it: scheduled once, now.
        public static func now(_ name: String, kind: String, queue: String? = nil, args: [String: JSONValue] = [:]) -> NewJob {
            var job = NewJob(name: name, kind: kind, queue: queue, args: args)
            job.schedule = ["kind": "once", "run_at": Date().json]
            return job
        }

        var arguments: [String: JSONValue] {
            var fields = CallArguments(settableArguments)
            fields["name"] = .string(name)
            fields["kind"] = kind.map(JSONValue.string)
            fields["queue"] = queue.map(JSONValue.string)
            fields["args"] = args.map(JSONValue.object)
            fields["schedule"] = schedule
            fields["idempotency_key"] = idempotencyKey.map(JSONValue.string)
            fields["tenant_id"] = tenantId.map(JSONValue.string)
            return fields.fields
        }
    }

    /// The fields `job.update` changes: each one set is written; `clear` names those to set to null.
    public struct JobChanges: SettableJobFields, Sendable, Hashable {
        public var name: String?
        public var description: String?
        public var priority: JSONValue?
        public var assignedAgent: String?
        public var executionContext: [String: JSONValue]?
        public var estimatedCost: Money?
        public var timeoutSeconds: Int?
        public var planId: String?
        public var planStepIndex: Int?
        public var metadata: [String: JSONValue]?
        public var callbackUrl: String?
        public var retryPolicy: JSONValue?
        /// Wire names of optional fields to clear (`description`, `timeout_seconds`, `retry_policy`, …).
        public var clear: Set<String> = []

        public init() {}

        var arguments: [String: JSONValue] {
            var fields = CallArguments()
            for name in clear { fields[name] = .null }
            fields.merge(settableArguments)
            fields["name"] = name.map(JSONValue.string)
            return fields.fields
        }
    }

    /// Which page of a listing: `limit` items after (or before) a cursor from the last page.
    public struct PageQuery: Sendable, Hashable {
        public var limit: Int?
        public var after: String?
        public var before: String?
        /// `asc` or `desc` (listings have their own default).
        public var order: String?

        public init(limit: Int? = nil, after: String? = nil, before: String? = nil, order: String? = nil) {
            self.limit = limit
            self.after = after
            self.before = before
            self.order = order
        }

        var arguments: [String: JSONValue] {
            var fields = CallArguments()
            fields["limit"] = limit?.json
            fields["after"] = after.map(JSONValue.string)
            fields["before"] = before.map(JSONValue.string)
            fields["order"] = order.map(JSONValue.string)
            return fields.fields
        }
    }

    /// `job.list`'s filters.
    public struct JobQuery: Sendable, Hashable {
        public var status: [JobStatus] = []
        public var queue: String?
        public var kind: String?
        public var assignedAgent: String?
        public var planId: String?
        public var metadata: [String: JSONValue]?
        public var createdAfter: Date?
        public var createdBefore: Date?
        public var tenantId: String?

        public init(status: [JobStatus] = [], queue: String? = nil, kind: String? = nil) {
            self.status = status
            self.queue = queue
            self.kind = kind
        }

        var arguments: [String: JSONValue] {
            var fields = CallArguments()
            if !status.isEmpty { fields["status"] = status.map(\.rawValue).json }
            fields["queue"] = queue.map(JSONValue.string)
            fields["kind"] = kind.map(JSONValue.string)
            fields["assigned_agent"] = assignedAgent.map(JSONValue.string)
            fields["plan_id"] = planId.map(JSONValue.string)
            fields["metadata"] = metadata.map(JSONValue.object)
            fields["created_after"] = createdAfter?.json
            fields["created_before"] = createdBefore?.json
            fields["tenant_id"] = tenantId.map(JSONValue.string)
            return fields.fields
        }
    }
}

/// The fields both `job.create` and `job.update` set, written to the wire once for both.
protocol SettableJobFields {
    var description: String? { get }
    var priority: JSONValue? { get }
    var assignedAgent: String? { get }
    var executionContext: [String: JSONValue]? { get }
    var estimatedCost: Money? { get }
    var timeoutSeconds: Int? { get }
    var planId: String? { get }
    var planStepIndex: Int? { get }
    var metadata: [String: JSONValue]? { get }
    var callbackUrl: String? { get }
    var retryPolicy: JSONValue? { get }
}

extension SettableJobFields {
    /// The given fields under their wire names.
    var settableArguments: [String: JSONValue] {
        var fields = CallArguments()
        fields["description"] = description.map(JSONValue.string)
        fields["priority"] = priority
        fields["assigned_agent"] = assignedAgent.map(JSONValue.string)
        fields["execution_context"] = executionContext.map(JSONValue.object)
        fields["estimated_cost"] = estimatedCost.map { .string($0.description) }
        fields["timeout_seconds"] = timeoutSeconds?.json
        fields["plan_id"] = planId.map(JSONValue.string)
        fields["plan_step_index"] = planStepIndex?.json
        fields["metadata"] = metadata.map(JSONValue.object)
        fields["callback_url"] = callbackUrl.map(JSONValue.string)
        fields["retry_policy"] = retryPolicy
        return fields.fields
    }
}
