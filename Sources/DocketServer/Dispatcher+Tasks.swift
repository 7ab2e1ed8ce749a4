import DocketCore
import DocketPostgres
import DocketProtocol
import DocketServices
import Foundation

extension Dispatcher {
    func handleTask(_ op: ServiceOperation, _ a: Arguments, _ actor: Principal) async throws -> JSONValue {
        switch op {
        case .taskCreate:
            return try await tasks.create(a, by: actor).json
        case .taskGet:
            return try await tasks.get(try a.uuid("task_id"), by: actor).json
        case .taskUpdate:
            return try await tasks.update(try a.uuid("task_id"), a, by: actor).json
        case .taskDelete:
            try await tasks.delete(try a.uuid("task_id"), cascade: try a.optionalBool("cascade") ?? false, by: actor)
            return .object(["deleted": .bool(true)])
        case .taskList:
            return try await tasks.list(try TaskFilter(a), page: try PageRequest(a, defaultOrder: .desc), tenant: try a.tenant, by: actor).json
        case .taskStart:
            return try await tasks.start(try a.uuid("task_id"), expectedVersion: try a.expectedVersion, by: actor).json
        case .taskComplete:
            return try await tasks.complete(try a.uuid("task_id"), notes: try a.optionalString("completion_notes"),
                                            actualCost: try a.optionalMoney("actual_cost"), expectedVersion: try a.expectedVersion, by: actor).json
        case .taskCancel:
            return try await tasks.cancel(try a.uuid("task_id"), reason: try a.optionalString("reason"),
                                          cascade: try a.optionalBool("cascade") ?? false, expectedVersion: try a.expectedVersion, by: actor).json
        case .taskReopen:
            return try await tasks.reopen(try a.uuid("task_id"), expectedVersion: try a.expectedVersion, by: actor).json
        case .taskAssign:
            guard let assignee = try a.optionalString("assignee_id", maxLength: 500) else {
                throw DocketError.validation(field: "assignee_id", "is required")
            }
            return try await tasks.assign(try a.uuid("task_id"), assigneeId: assignee,
                                          assigneeType: try a.optionalEnum("assignee_type", WorkTask.AssigneeType.self) ?? .agent, by: actor).json
        case .taskCreateSubtask:
            var fields = a.fields
            fields["parent_id"] = nil
            return try await tasks.createSubtask(parent: try a.uuid("parent_id"), Arguments(fields), by: actor).json
        case .taskSubtasks:
            return .array(try await tasks.subtasks(try a.uuid("task_id"), by: actor).map(\.json))
        case .taskAddDependency:
            let type = try DependencyType(name: try a.optionalString("dependency_type", maxLength: 100) ?? "finish_to_start")
            return try await tasks.addDependency(try a.uuid("task_id"), dependsOn: try a.uuid("depends_on_id"), type: type, by: actor).json
        case .taskRemoveDependency:
            return try await tasks.removeDependency(try a.uuid("task_id"), dependsOn: try a.uuid("depends_on_id"), by: actor).json
        case .taskDependencies:
            return .array(try await tasks.dependencies(try a.uuid("task_id"), by: actor).map(\.json))
        case .taskDependenciesComplete:
            let (complete, unmet) = try await tasks.dependenciesComplete(try a.uuid("task_id"), by: actor)
            return .object(["complete": .bool(complete), "unmet": .array(unmet.map(\.json))])
        case .taskUpdateContext:
            guard let updates = try a.optionalObject("context_updates", maxBytes: FieldLimits.contextBytes) else {
                throw DocketError.validation(field: "context_updates", "is required")
            }
            return try await tasks.updateContext(try a.uuid("task_id"), updates: updates, merge: try a.optionalBool("merge") ?? true, by: actor).json
        case .taskSetPriority:
            guard let priority = a.fields["priority"] else { throw DocketError.validation(field: "priority", "is required") }
            return try await tasks.setPriority(try a.uuid("task_id"), priority, by: actor).json
        case .taskByJob:
            return .array(try await tasks.byJob(try a.uuid("job_id"), by: actor).map(\.json))
        case .taskPending:
            return try await tasks.pending(page: try PageRequest(a, defaultOrder: .desc), tenant: try a.tenant, by: actor).json
        case .taskInProgress:
            return try await tasks.inProgress(page: try PageRequest(a, defaultOrder: .desc), tenant: try a.tenant, by: actor).json
        default:
            throw DocketError(.unknownOp, "op \"\(op.rawValue)\" is not a task operation")
        }
    }
}
