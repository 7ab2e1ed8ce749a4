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

}
