import DocketCore
import Foundation
import PostgresNIO

/// Reading a `docket.tasks` row into a `WorkTask`: `columns` and `decode` list the same columns in the same order.
enum TaskRow {
    static let columns = """
        id, tenant_id, title, owner_id, created_at, status, description, priority, assignee_id, assignee_type,
        assigned_agent, delegation_chain, execution_context, estimated_cost, actual_cost, timeout_seconds, deadline_at,
        parent_id, job_id, completion_notes, cancel_reason, metadata, updated_at, started_at, completed_at, version
        """

    static func decode(_ row: PostgresRow) throws -> WorkTask {
        var r = RowReader(row)
        var task = WorkTask(id: try r.next(), tenantId: try r.next(), title: try r.next(), ownerId: try r.next(), now: try r.next())
        task.status = try r.value(TaskStatus.self)
        task.description = try r.next()
        task.priority = try r.smallint()
        task.assigneeId = try r.next()
        task.assigneeType = try r.optionalValue(WorkTask.AssigneeType.self)
        task.assignedAgent = try r.next()
        task.delegationChain = try r.list()
        task.executionContext = try r.object()
        task.estimatedCost = try r.money()
        task.actualCost = try r.money()
        task.timeoutSeconds = try r.optionalInteger()
        task.deadlineAt = try r.next()
        task.parentId = try r.next()
        task.jobId = try r.next()
        task.completionNotes = try r.next()
        task.cancelReason = try r.next()
        task.metadata = try r.object()
        task.updatedAt = try r.next()
        task.startedAt = try r.next()
        task.completedAt = try r.next()
        task.version = try r.next()
        return task
    }
}
