import DocketCore
import DocketPostgres
import Foundation

extension TaskService {
    /// `task.add_dependency`: `id` depends on `dependsOn`. Refuses a cycle of any length (`CIRCULAR_DEPENDENCY` with
    /// its path) and another tenant's task; an unmet start-gating prerequisite blocks a pending task.
    public func addDependency(_ id: UUID, dependsOn: UUID, type: DependencyType = .finishToStart,
                              by actor: Principal) async throws -> WorkTask {
        guard id != dependsOn else {
            throw DocketError(.circularDependency, "task \(id.uuidString.lowercased()) cannot depend on itself",
                              details: ["path": .array([.string(id.uuidString.lowercased()), .string(id.uuidString.lowercased())])])
        }
        return try await change(id, by: actor, .taskAddDependency, lockingGraph: true) { task, tx in
            let missing = DocketError(.taskNotFound, "task \(dependsOn.uuidString.lowercased()) does not exist",
                                      details: ["depends_on_id": .string(dependsOn.uuidString.lowercased())])
            guard let prerequisite = try await tx.tasks.find(dependsOn) else { throw missing }
            try Self.refuseCrossTenant(prerequisite, from: task.tenantId, actor: tx.actor, what: "a dependency", missing: missing)
            // The new edge task → prerequisite closes a cycle exactly when the prerequisite already reaches the task.
            if let path = try await tx.dependencies.path(from: dependsOn, to: task.id) {
                let cycle = [task.id] + path
                throw DocketError(.circularDependency,
                    "task \(task.idText) cannot depend on \(prerequisite.idText): "
                        + cycle.map { $0.uuidString.lowercased() }.joined(separator: " → "),
                    details: ["path": .array(cycle.map { .string($0.uuidString.lowercased()) })])
            }
            try await tx.dependencies.upsert(task: task.id, dependsOn: dependsOn, tenant: task.tenantId, type: type, by: tx.actor.id)
            var events = [EventDraft.task(.taskDependencyAdded, task, actor: tx.actor.id, data: [
                "depends_on_id": .string(prerequisite.idText), "dependency_type": .string(type.rawValue)])]
            if task.status == .pending, type.gatesStart, !type.isMet(by: prerequisite.status, forStart: true) {
                try task.move(to: .blocked, via: "task.add_dependency", now: tx.now)
                events += EventDraft.taskTransition(task, from: .pending, actor: tx.actor.id, arrival: .taskBlocked,
                                                    data: ["depends_on_id": .string(prerequisite.idText)])
            }
            return events
        }
    }

    /// `task.remove_dependency`; a blocked task whose last unmet gate this was returns to pending.
    public func removeDependency(_ id: UUID, dependsOn: UUID, by actor: Principal) async throws -> WorkTask {
        try await change(id, by: actor, .taskRemoveDependency, lockingGraph: true) { task, tx in
            guard try await tx.dependencies.delete(task: task.id, dependsOn: dependsOn) else {
                throw DocketError(.notFound, "task \(task.idText) does not depend on \(dependsOn.uuidString.lowercased())")
            }
            var events = [EventDraft.task(.taskDependencyRemoved, task, actor: tx.actor.id,
                                          data: ["depends_on_id": .string(dependsOn.uuidString.lowercased())])]
            if task.status == .blocked, try await Self.unmetStartGates(task, tx).isEmpty {
                try task.move(to: .pending, via: TaskStatus.unblockOperation, now: tx.now)
                events += EventDraft.taskTransition(task, from: .blocked, actor: tx.actor.id, arrival: .taskUnblocked)
            }
            return events
        }
    }

    /// `task.dependencies`: the task's prerequisites with their types and statuses.
    public func dependencies(_ id: UUID, by actor: Principal) async throws -> [TaskDependencyEdge] {
        _ = try await store.read(id, by: actor, .taskDependencies)
        return try await database.read { connection in
            try await TaskDependencyQueries(connection, logger: logger).prerequisites(of: id)
        }
    }

    /// `task.dependencies_complete`: whether every prerequisite allows starting and completing, and which do not.
    public func dependenciesComplete(_ id: UUID, by actor: Principal) async throws -> (complete: Bool, unmet: [TaskDependencyEdge]) {
        let edges = try await dependencies(id, by: actor)
        let unmet = edges.filter { !$0.type.isMet(by: $0.prerequisiteStatus, forStart: true) || !$0.type.isMet(by: $0.prerequisiteStatus, forStart: false) }
        return (unmet.isEmpty, unmet)
    }
}
