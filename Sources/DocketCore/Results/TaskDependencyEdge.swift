import Foundation

/// One edge of the dependency graph, with the prerequisite's current status.
public struct TaskDependencyEdge: Sendable, Hashable {
    public var taskId: UUID
    public var dependsOnId: UUID
    public var type: DependencyType
    public var prerequisiteStatus: TaskStatus

    public init(taskId: UUID, dependsOnId: UUID, type: DependencyType, prerequisiteStatus: TaskStatus) {
        self.taskId = taskId
        self.dependsOnId = dependsOnId
        self.type = type
        self.prerequisiteStatus = prerequisiteStatus
    }

    /// Whether this edge lets its task start (or complete).
    public func isMet(forStart: Bool) -> Bool { type.isMet(by: prerequisiteStatus, forStart: forStart) }

    /// The edge as error details and as the wire show it.
    public var json: JSONValue {
        .object(["task_id": .string(taskId.uuidString.lowercased()), "depends_on_id": .string(dependsOnId.uuidString.lowercased()),
                 "dependency_type": .string(type.rawValue), "status": .string(prerequisiteStatus.rawValue)])
    }
}
