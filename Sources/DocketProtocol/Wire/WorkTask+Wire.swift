import DocketCore

extension WorkTask: WireEncodable {
    /// The task of SPEC 2.5.
    public var wire: JSONValue {
        .object([
            "id": id.wire, "tenant_id": .string(tenantId), "title": .string(title), "description": description.wire,
            "status": .string(status.rawValue), "priority": priority.wire, "owner_id": .string(ownerId),
            "assignee_id": assigneeId.wire, "assignee_type": assigneeType.map { .string($0.rawValue) } ?? .null,
            "assigned_agent": assignedAgent.wire, "delegation_chain": .array(delegationChain),
            "execution_context": .object(executionContext), "estimated_cost": estimatedCost.wire,
            "actual_cost": actualCost.wire, "timeout_seconds": timeoutSeconds.wire, "parent_id": parentId.wire,
            "job_id": jobId.wire, "completion_notes": completionNotes.wire, "cancel_reason": cancelReason.wire,
            "metadata": .object(metadata), "created_at": createdAt.wire, "updated_at": updatedAt.wire,
            "started_at": startedAt.wire, "completed_at": completedAt.wire, "version": version.wire,
        ])
    }
}

extension TaskDependencyEdge: WireEncodable {
    /// `{task_id, depends_on_id, dependency_type, status}`.
    public var wire: JSONValue { json }
}
