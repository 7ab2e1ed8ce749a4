import DocketCore
import DocketProtocol

extension OperationTable {
    /// The task operations (SPEC 2.5, 3.3).
    static let tasks: [ProtocolOperation] = [
        ProtocolOperation(.taskCreate, TaskCreate.self) { input, call in try await call.tasks.create(input, by: try call.actor) },
        ProtocolOperation(.taskGet, TaskRef.self) { input, call in try await call.tasks.get(input.id, by: try call.actor) },
        ProtocolOperation(.taskUpdate, TaskUpdate.self) { input, call in
            try await call.tasks.update(input.ref.id, input.fields, expectedVersion: input.ref.expectedVersion, by: try call.actor)
        },
        ProtocolOperation(.taskDelete, TaskDeletion.self) { input, call in
            try await call.tasks.delete(input.task.id, cascade: input.cascade, by: try call.actor)
            return JSONValue.object(["deleted": .bool(true)])
        },
        ProtocolOperation(.taskList, TaskListing.self) { input, call in
            try await call.tasks.list(input.filter, page: input.page, tenant: input.tenantId, by: try call.actor)
        },
        ProtocolOperation(.taskStart, TaskVersioned.self) { input, call in
            try await call.tasks.start(input.id, expectedVersion: input.expectedVersion, by: try call.actor)
        },
        ProtocolOperation(.taskComplete, TaskCompletion.self) { input, call in
            try await call.tasks.complete(input.task.id, notes: input.notes, actualCost: input.actualCost,
                                          expectedVersion: input.task.expectedVersion, by: try call.actor)
        },
        ProtocolOperation(.taskCancel, TaskCancellation.self) { input, call in
            try await call.tasks.cancel(input.task.id, reason: input.reason, cascade: input.cascade,
                                        expectedVersion: input.task.expectedVersion, by: try call.actor)
        },
        ProtocolOperation(.taskReopen, TaskVersioned.self) { input, call in
            try await call.tasks.reopen(input.id, expectedVersion: input.expectedVersion, by: try call.actor)
        },
        ProtocolOperation(.taskAssign, TaskAssignment.self) { input, call in
            try await call.tasks.assign(input.task.id, assigneeId: input.assigneeId, assigneeType: input.assigneeType,
                                        by: try call.actor)
        },
        ProtocolOperation(.taskCreateSubtask, SubtaskCreate.self) { input, call in
            try await call.tasks.createSubtask(parent: input.parentId, input.task, by: try call.actor)
        },
        ProtocolOperation(.taskSubtasks, TaskRef.self) { input, call in try await call.tasks.subtasks(input.id, by: try call.actor) },
        ProtocolOperation(.taskAddDependency, TaskDependencyAddition.self) { input, call in
            try await call.tasks.addDependency(input.task.id, dependsOn: input.dependsOn, type: input.type, by: try call.actor)
        },
        ProtocolOperation(.taskRemoveDependency, TaskDependencyRemoval.self) { input, call in
            try await call.tasks.removeDependency(input.task.id, dependsOn: input.dependsOn, by: try call.actor)
        },
        ProtocolOperation(.taskDependencies, TaskRef.self) { input, call in try await call.tasks.dependencies(input.id, by: try call.actor) },
        ProtocolOperation(.taskDependenciesComplete, TaskRef.self) { input, call in
            let (complete, unmet) = try await call.tasks.dependenciesComplete(input.id, by: try call.actor)
            return JSONValue.object(["complete": .bool(complete), "unmet": unmet.wire])
        },
        ProtocolOperation(.taskUpdateContext, TaskContextUpdate.self) { input, call in
            try await call.tasks.updateContext(input.task.id, updates: input.updates, merge: input.merge, by: try call.actor)
        },
        ProtocolOperation(.taskSetPriority, TaskPriorityChange.self) { input, call in
            try await call.tasks.setPriority(input.task.id, input.priority, by: try call.actor)
        },
        ProtocolOperation(.taskByJob, JobRef.self) { input, call in try await call.tasks.byJob(input.id, by: try call.actor) },
        ProtocolOperation(.taskPending, TaskPaging.self) { input, call in
            try await call.tasks.pending(page: input.page, tenant: input.tenantId, by: try call.actor)
        },
        ProtocolOperation(.taskInProgress, TaskPaging.self) { input, call in
            try await call.tasks.inProgress(page: input.page, tenant: input.tenantId, by: try call.actor)
        },
    ]
}
