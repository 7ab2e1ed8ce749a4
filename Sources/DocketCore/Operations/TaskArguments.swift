import Foundation

// The typed arguments of the task operations (docs/protocol.md, "Tasks"). Each reads its fields and nothing else.

/// `task.create` (and, with `parent_id`, `task.create_subtask`).
public struct TaskCreate: OperationArguments {
    public var tenantId: String?
    public var fields: TaskInput
    public var title: String
    public var parentId: UUID?
    public var jobId: UUID?

    public init(reading reader: inout ArgumentReader) throws(DocketError) {
        tenantId = try reader.tenant()
        fields = try TaskInput(reading: &reader)
        title = try reader.required("title", fields.title)
        parentId = try reader.optionalUUID("parent_id")
        jobId = try reader.optionalUUID("job_id")
    }
}

/// `task.create_subtask`: `parent_id` is required.
public struct SubtaskCreate: OperationArguments {
    public var task: TaskCreate
    public var parentId: UUID

    public init(reading reader: inout ArgumentReader) throws(DocketError) {
        task = try TaskCreate(reading: &reader)
        parentId = try reader.required("parent_id", task.parentId)
    }
}

/// `task.delete`.
public struct TaskDeletion: OperationArguments {
    public var task: TaskRef
    public var cascade: Bool

    public init(reading reader: inout ArgumentReader) throws(DocketError) {
        task = try TaskRef(reading: &reader)
        cascade = try reader.optionalBool("cascade") ?? false
    }
}

/// `task.list`: filters and paging (highest priority first unless told otherwise).
public struct TaskListing: OperationArguments {
    public var tenantId: String?
    public var filter: TaskFilter
    public var page: PageRequest

    public init(reading reader: inout ArgumentReader) throws(DocketError) {
        tenantId = try reader.tenant()
        filter = try TaskFilter(reading: &reader)
        page = try PageRequest(reading: &reader, defaultOrder: .desc)
    }
}

/// A task list without filters (`task.pending`, `task.in_progress`).
public struct TaskPaging: OperationArguments {
    public var tenantId: String?
    public var page: PageRequest

    public init(reading reader: inout ArgumentReader) throws(DocketError) {
        tenantId = try reader.tenant()
        page = try PageRequest(reading: &reader, defaultOrder: .desc)
    }
}

/// `task.complete`.
public struct TaskCompletion: OperationArguments {
    public var task: TaskVersioned
    public var notes: String?
    public var actualCost: Money?

    public init(reading reader: inout ArgumentReader) throws(DocketError) {
        task = try TaskVersioned(reading: &reader)
        notes = try reader.optionalString("completion_notes")
        actualCost = try reader.optionalMoney("actual_cost")
    }
}

/// `task.cancel`.
public struct TaskCancellation: OperationArguments {
    public var task: TaskVersioned
    public var reason: String?
    public var cascade: Bool

    public init(reading reader: inout ArgumentReader) throws(DocketError) {
        task = try TaskVersioned(reading: &reader)
        reason = try reader.optionalString("reason")
        cascade = try reader.optionalBool("cascade") ?? false
    }
}

/// `task.assign`.
public struct TaskAssignment: OperationArguments {
    public var task: TaskRef
    public var assigneeId: String
    public var assigneeType: WorkTask.AssigneeType

    public init(reading reader: inout ArgumentReader) throws(DocketError) {
        task = try TaskRef(reading: &reader)
        assigneeId = try reader.required("assignee_id", try reader.optionalString("assignee_id", maxLength: 500))
        assigneeType = try reader.optionalEnum("assignee_type", WorkTask.AssigneeType.self) ?? .agent
    }
}

/// `task.add_dependency`.
public struct TaskDependencyAddition: OperationArguments {
    public var task: TaskRef
    public var dependsOn: UUID
    public var type: DependencyType

    public init(reading reader: inout ArgumentReader) throws(DocketError) {
        task = try TaskRef(reading: &reader)
        dependsOn = try reader.uuid("depends_on_id")
        type = try DependencyType(name: try reader.optionalString("dependency_type", maxLength: 100) ?? "finish_to_start")
    }
}

/// `task.remove_dependency`.
public struct TaskDependencyRemoval: OperationArguments {
    public var task: TaskRef
    public var dependsOn: UUID

    public init(reading reader: inout ArgumentReader) throws(DocketError) {
        task = try TaskRef(reading: &reader)
        dependsOn = try reader.uuid("depends_on_id")
    }
}

/// `task.update_context`.
public struct TaskContextUpdate: OperationArguments {
    public var task: TaskRef
    public var updates: [String: JSONValue]
    public var merge: Bool

    public init(reading reader: inout ArgumentReader) throws(DocketError) {
        task = try TaskRef(reading: &reader)
        updates = try reader.required("context_updates", try reader.optionalObject("context_updates", maxBytes: FieldLimits.contextBytes))
        merge = try reader.optionalBool("merge") ?? true
    }
}

/// `task.set_priority`: a number 1–100 or a name.
public struct TaskPriorityChange: OperationArguments {
    public var task: TaskRef
    public var priority: Int

    public init(reading reader: inout ArgumentReader) throws(DocketError) {
        task = try TaskRef(reading: &reader)
        guard let value = reader.raw("priority"), value != .null else { throw .validation(field: "priority", "is required") }
        priority = try Priority(json: value).value
    }
}
