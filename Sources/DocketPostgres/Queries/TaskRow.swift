import DocketCore
import Foundation
import PostgresNIO

/// Reading a `docket.tasks` row into a `WorkTask`.
enum TaskRow {
    static let columns = """
        id, tenant_id, title, description, status, priority, owner_id, assignee_id, assignee_type, assigned_agent,
        delegation_chain, execution_context, estimated_cost, actual_cost, timeout_seconds, deadline_at, parent_id,
        job_id, completion_notes, cancel_reason, metadata, created_at, updated_at, started_at, completed_at, version
        """

    static func decode(_ row: PostgresRow) throws -> WorkTask {
        let r = row.makeRandomAccess()
        var task = WorkTask(id: try r.value("id"), tenantId: try r.value("tenant_id"), title: try r.value("title"),
                            ownerId: try r.value("owner_id"), now: try r.value("created_at"))
        let status: String = try r.value("status")
        guard let parsed = TaskStatus(rawValue: status) else {
            throw DocketError(.internal, "task \(task.id) has unknown status \(status)")
        }
        task.status = parsed
        task.description = try r.value("description")
        task.priority = Int(try r.value("priority", as: Int16.self))
        task.assigneeId = try r.value("assignee_id")
        task.assigneeType = try r.value("assignee_type", as: String?.self).flatMap(WorkTask.AssigneeType.init)
        task.assignedAgent = try r.value("assigned_agent")
        task.delegationChain = try r.value("delegation_chain", as: JSONValue.self).arrayValue ?? []
        task.executionContext = try r.object("execution_context")
        task.estimatedCost = try r.money("estimated_cost")
        task.actualCost = try r.money("actual_cost")
        task.timeoutSeconds = try r.value("timeout_seconds", as: Int32?.self).map(Int.init)
        task.deadlineAt = try r.value("deadline_at")
        task.parentId = try r.value("parent_id")
        task.jobId = try r.value("job_id")
        task.completionNotes = try r.value("completion_notes")
        task.cancelReason = try r.value("cancel_reason")
        task.metadata = try r.object("metadata")
        task.updatedAt = try r.value("updated_at")
        task.startedAt = try r.value("started_at")
        task.completedAt = try r.value("completed_at")
        task.version = try r.value("version")
        return task
    }
}
