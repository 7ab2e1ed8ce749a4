import Foundation

/// A task (SPEC 2.5): a unit of work owned by its creator, with subtasks, dependencies and an execution context.
///
/// Named `WorkTask` because `Task` is Swift's unit of concurrency; the wire and the docs still say task.
public struct WorkTask: Sendable, Hashable {
    public enum AssigneeType: String, Sendable, Hashable, CaseIterable { case user, agent }

    public var id: UUID
    public var tenantId: String
    public var title: String
    public var description: String?
    public var status: TaskStatus
    public var priority: Int
    public var ownerId: String
    public var assigneeId: String?
    public var assigneeType: AssigneeType?
    public var assignedAgent: String?
    public var delegationChain: [JSONValue]
    public var executionContext: [String: JSONValue]
    public var estimatedCost: Money?
    public var actualCost: Money?
    public var timeoutSeconds: Int?
    public var deadlineAt: Date?
    public var parentId: UUID?
    public var jobId: UUID?
    public var completionNotes: String?
    public var cancelReason: String?
    public var metadata: [String: JSONValue]
    public var createdAt: Date
    public var updatedAt: Date
    public var startedAt: Date?
    public var completedAt: Date?
    public var version: Int64

    public init(id: UUID, tenantId: String, title: String, ownerId: String, now: Date) {
        self.id = id
        self.tenantId = tenantId
        self.title = title
        self.status = .pending
        self.priority = Priority.default.value
        self.ownerId = ownerId
        self.delegationChain = []
        self.executionContext = [:]
        self.metadata = [:]
        self.createdAt = now
        self.updatedAt = now
        self.version = 1
    }

    public var idText: String { id.uuidString.lowercased() }

    /// Moves to `status` if the machine allows it for `operation`.
    public mutating func move(to status: TaskStatus, via operation: String, now: Date) throws(DocketError) {
        try TaskStatus.machine.check(id: idText, from: self.status, to: status, via: operation)
        self.status = status
        self.updatedAt = now
    }

    /// The task as the protocol shows it.
    public var json: JSONValue {
        .object([
            "id": .string(idText), "tenant_id": .string(tenantId), "title": .string(title),
            "description": description.json, "status": .string(status.rawValue), "priority": .number(Double(priority)),
            "owner_id": .string(ownerId), "assignee_id": assigneeId.json,
            "assignee_type": assigneeType.map { .string($0.rawValue) } ?? .null, "assigned_agent": assignedAgent.json,
            "delegation_chain": .array(delegationChain), "execution_context": .object(executionContext),
            "estimated_cost": estimatedCost.map { .string($0.description) } ?? .null,
            "actual_cost": actualCost.map { .string($0.description) } ?? .null,
            "timeout_seconds": timeoutSeconds.map { .number(Double($0)) } ?? .null,
            "parent_id": parentId.map { .string($0.uuidString.lowercased()) } ?? .null,
            "job_id": jobId.map { .string($0.uuidString.lowercased()) } ?? .null,
            "completion_notes": completionNotes.json, "cancel_reason": cancelReason.json, "metadata": .object(metadata),
            "created_at": .string(Timestamp.format(createdAt)), "updated_at": .string(Timestamp.format(updatedAt)),
            "started_at": startedAt.json, "completed_at": completedAt.json, "version": .number(Double(version)),
        ])
    }
}
