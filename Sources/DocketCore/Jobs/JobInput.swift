import Foundation

/// The fields a caller may set on a job, validated: the arguments of `job.create` and `job.update`.
public struct JobInput: OperationArguments, Hashable {

    /// Each given field, parsed; `.some(nil)` clears an optional field.
    public var name: String?
    public var description: String??
    public var priority: Int?
    public var assignedAgent: String??
    public var executionContext: [String: JSONValue]?
    public var estimatedCost: Money??
    public var timeoutSeconds: Int??
    public var planId: String??
    public var planStepIndex: Int??
    public var metadata: [String: JSONValue]?
    public var callbackUrl: String??
    public var retryPolicy: JSONValue??

    public init() {}

    /// Parses the settable fields present in `args` (other fields are the caller's to check).
    public init(reading args: inout ArgumentReader) throws(DocketError) {
        if args.has("name") {
            let name = try args.string("name", maxLength: 500)
            guard !name.trimmingCharacters(in: .whitespaces).isEmpty else { throw .validation(field: "name", "must not be empty") }
            self.name = name
        }
        if args.has("description") { description = .some(try args.optionalString("description", maxLength: 100_000)) }
        if let value = args.raw("priority"), value != .null { priority = try Priority(json: value).value }
        if args.has("assigned_agent") { assignedAgent = .some(try args.optionalString("assigned_agent", maxLength: 500)) }
        if args.has("execution_context") { executionContext = try args.optionalObject("execution_context", maxBytes: FieldLimits.contextBytes) ?? [:] }
        if args.has("estimated_cost") { estimatedCost = .some(try args.optionalMoney("estimated_cost")) }
        if args.has("timeout_seconds") { timeoutSeconds = .some(try args.optionalInt("timeout_seconds", range: 1...31_536_000)) }
        if args.has("plan_id") { planId = .some(try args.optionalString("plan_id", maxLength: 500)) }
        if args.has("plan_step_index") { planStepIndex = .some(try args.optionalInt("plan_step_index", range: 0...1_000_000)) }
        if args.has("metadata") { metadata = try args.optionalObject("metadata") ?? [:] }
        if args.has("callback_url") {
            let url = try args.optionalString("callback_url", maxLength: 2_000)
            if let url {
                guard let parsed = URL(string: url), ["http", "https"].contains(parsed.scheme?.lowercased() ?? ""),
                      parsed.host?.isEmpty == false else {
                    throw .validation(field: "callback_url", "must be an http or https URL, got \"\(url)\"")
                }
            }
            callbackUrl = .some(url)
        }
        if let policy = args.raw("retry_policy") {
            if policy == .null {
                retryPolicy = .some(nil)
            } else {
                _ = try RetryPolicy(json: policy)
                retryPolicy = .some(policy)
            }
        }
    }

    /// Writes the given fields into `job`.
    public func apply(to job: inout Job) {
        if let name { job.name = name }
        if let description { job.description = description }
        if let priority { job.priority = priority }
        if let assignedAgent { job.assignedAgent = assignedAgent }
        if let executionContext { job.executionContext = executionContext }
        if let estimatedCost { job.estimatedCost = estimatedCost }
        if let timeoutSeconds { job.timeoutSeconds = timeoutSeconds }
        if let planId { job.planId = planId }
        if let planStepIndex { job.planStepIndex = planStepIndex }
        if let metadata { job.metadata = metadata }
        if let callbackUrl { job.callbackUrl = callbackUrl }
        if let retryPolicy { job.retryPolicy = retryPolicy }
    }

    /// The wire names of the fields given, for `job.updated`'s data.
    public var changedFields: [String] {
        var names: [String] = []
        if name != nil { names.append("name") }
        if description != nil { names.append("description") }
        if priority != nil { names.append("priority") }
        if assignedAgent != nil { names.append("assigned_agent") }
        if executionContext != nil { names.append("execution_context") }
        if estimatedCost != nil { names.append("estimated_cost") }
        if timeoutSeconds != nil { names.append("timeout_seconds") }
        if planId != nil { names.append("plan_id") }
        if planStepIndex != nil { names.append("plan_step_index") }
        if metadata != nil { names.append("metadata") }
        if callbackUrl != nil { names.append("callback_url") }
        if retryPolicy != nil { names.append("retry_policy") }
        return names
    }
}
