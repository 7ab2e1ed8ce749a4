import DocketCore
import DocketPostgres
import Foundation

extension TaskService {
    /// `task.assign`: sets the assignee (a user or an agent).
    public func assign(_ id: UUID, assigneeId: String, assigneeType: WorkTask.AssigneeType = .agent,
                       by actor: Principal) async throws -> WorkTask {
        guard !assigneeId.isEmpty, assigneeId.count <= 500 else {
            throw DocketError.validation(field: "assignee_id", "must be 1–500 characters")
        }
        return try await change(id, by: actor, .taskAssign) { task, tx in
            let previous = task.assigneeId
            task.assigneeId = assigneeId
            task.assigneeType = assigneeType
            if assigneeType == .agent {
                task.delegationChain.append(.object([
                    "from": previous.map(JSONValue.string) ?? .null, "to": .string(assigneeId),
                    "at": .string(Timestamp.format(tx.now)),
                ]))
                task.assignedAgent = assigneeId
            }
            return [.task(.taskAssigned, task, actor: tx.actor.id, data: [
                "assignee_id": .string(assigneeId), "assignee_type": .string(assigneeType.rawValue),
                "previous": previous.map(JSONValue.string) ?? .null])]
        }
    }

    /// `task.update_context`: deep-merges `updates` into the execution context, or replaces it when `merge` is false.
    public func updateContext(_ id: UUID, updates: [String: JSONValue], merge: Bool = true,
                              by actor: Principal) async throws -> WorkTask {
        try await change(id, by: actor, .taskUpdateContext) { task, tx in
            let current = JSONValue.object(task.executionContext)
            let merged = merge ? current.deepMerged(with: .object(updates)) : .object(updates)
            try merged.checkSize(FieldLimits.contextBytes, field: "context_updates")
            task.executionContext = merged.objectValue ?? [:]
            return [.task(.taskContextUpdated, task, actor: tx.actor.id,
                          data: ["keys": .array(updates.keys.sorted().map(JSONValue.string)), "merge": .bool(merge)])]
        }
    }

    /// `task.set_priority`: a number 1–100 or a name (CRITICAL, HIGH, MEDIUM, LOW, BACKGROUND).
    public func setPriority(_ id: UUID, _ value: Int, by actor: Principal) async throws -> WorkTask {
        guard Priority.range.contains(value) else { throw DocketError.validation(field: "priority", "must be 1–100, got \(value)") }
        return try await change(id, by: actor, .taskSetPriority) { task, tx in
            let previous = task.priority
            guard previous != value else { return [] }
            task.priority = value
            return [.task(.taskPriorityChanged, task, actor: tx.actor.id,
                          data: ["from": .number(Double(previous)), "to": .number(Double(value))])]
        }
    }
}
