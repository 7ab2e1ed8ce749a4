import Foundation

/// A task linked to a job, with the link's role (`job.linked_tasks`).
public struct LinkedTask: Sendable, Hashable {
    public var taskId: UUID
    public var relationship: String
    public var metadata: JSONValue
    public var title: String
    public var status: TaskStatus
    public var linkedAt: Date

    public init(taskId: UUID, relationship: String, metadata: JSONValue, title: String, status: TaskStatus, linkedAt: Date) {
        self.taskId = taskId
        self.relationship = relationship
        self.metadata = metadata
        self.title = title
        self.status = status
        self.linkedAt = linkedAt
    }
}
