import Foundation

/// The fields a caller may set on a task, validated: the arguments of `task.create` and `task.update`.
public struct TaskInput: OperationArguments, Hashable {

    public var title: String?
    public var description: String??
    public var priority: Int?
    public var assigneeId: String??
    public var assigneeType: WorkTask.AssigneeType??
    public var assignedAgent: String??
    public var executionContext: [String: JSONValue]?
    public var estimatedCost: Money??
    public var timeoutSeconds: Int??
    public var metadata: [String: JSONValue]?

    public init() {}

    public init(reading args: inout ArgumentReader) throws(DocketError) {
        if args.has("title") {
            let title = try args.string("title", maxLength: 500)
            guard !title.trimmingCharacters(in: .whitespaces).isEmpty else { throw .validation(field: "title", "must not be empty") }
            self.title = title
        }
        if args.has("description") { description = .some(try args.optionalString("description", maxLength: 100_000)) }
        if let value = args.raw("priority"), value != .null { priority = try Priority(json: value).value }
        if args.has("assignee_id") { assigneeId = .some(try args.optionalString("assignee_id", maxLength: 500)) }
        if args.has("assignee_type") { assigneeType = .some(try args.optionalEnum("assignee_type", WorkTask.AssigneeType.self)) }
        if args.has("assigned_agent") { assignedAgent = .some(try args.optionalString("assigned_agent", maxLength: 500)) }
        if args.has("execution_context") { executionContext = try args.optionalObject("execution_context", maxBytes: FieldLimits.contextBytes) ?? [:] }
        if args.has("estimated_cost") { estimatedCost = .some(try args.optionalMoney("estimated_cost")) }
        if args.has("timeout_seconds") { timeoutSeconds = .some(try args.optionalInt("timeout_seconds", range: 1...31_536_000)) }
        if args.has("metadata") { metadata = try args.optionalObject("metadata") ?? [:] }
    }

    public func apply(to task: inout WorkTask) {
        if let title { task.title = title }
        if let description { task.description = description }
        if let priority { task.priority = priority }
        if let assigneeId { task.assigneeId = assigneeId }
        if let assigneeType { task.assigneeType = assigneeType }
        if let assignedAgent { task.assignedAgent = assignedAgent }
        if let executionContext { task.executionContext = executionContext }
        if let estimatedCost { task.estimatedCost = estimatedCost }
        if let timeoutSeconds { task.timeoutSeconds = timeoutSeconds }
        if let metadata { task.metadata = metadata }
    }

    public var changedFields: [String] {
        let given: [(String, Bool)] = [
            ("title", title != nil), ("description", description != nil), ("priority", priority != nil),
            ("assignee_id", assigneeId != nil), ("assignee_type", assigneeType != nil),
            ("assigned_agent", assignedAgent != nil), ("execution_context", executionContext != nil),
            ("estimated_cost", estimatedCost != nil), ("timeout_seconds", timeoutSeconds != nil),
            ("metadata", metadata != nil),
        ]
        return given.filter(\.1).map(\.0)
    }
}

/// The filters of `task.list` (SPEC 2.5).
public struct TaskFilter: OperationArguments, Hashable {
    public var statuses: [TaskStatus] = []
    public var jobId: UUID?
    public var assigneeId: String?
    public var parentId: UUID?
    public var priorityMin: Int?
    public var priorityMax: Int?

    public init() {}

    public init(reading args: inout ArgumentReader) throws(DocketError) {
        statuses = try args.values("status", TaskStatus.self)
        if args.has("job_id"), args.raw("job_id") != .null { jobId = try args.uuid("job_id") }
        assigneeId = try args.optionalString("assignee_id", maxLength: 500)
        if args.has("parent_id"), args.raw("parent_id") != .null { parentId = try args.uuid("parent_id") }
        priorityMin = try args.optionalInt("priority_min", range: Priority.range)
        priorityMax = try args.optionalInt("priority_max", range: Priority.range)
    }
}
