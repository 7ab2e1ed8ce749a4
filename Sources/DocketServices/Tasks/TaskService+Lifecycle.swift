import DocketCore
import DocketPostgres
import Foundation

extension TaskService {
    /// `task.start`: pending → in_progress, once finish-to-start prerequisites completed and start-to-start ones started.
    public func start(_ id: UUID, expectedVersion: Int64? = nil, by actor: Principal) async throws -> WorkTask {
        try await change(id, by: actor, .taskStart, expectedVersion: expectedVersion) { task, tx in
            let from = task.status
            // A blocked task is blocked by its prerequisites: say which, rather than only that blocked cannot start.
            if from == .blocked { try await Self.checkDependencies(task, tx, forStart: true) }
            try task.move(to: .inProgress, via: "task.start", now: tx.now)
            try await Self.checkDependencies(task, tx, forStart: true)
            task.startedAt = tx.now
            task.completedAt = nil
            task.deadlineAt = task.timeoutSeconds.map { tx.now.addingTimeInterval(Double($0)) }
            return EventDraft.taskTransition(task, from: from, actor: tx.actor.id, arrival: .taskStarted)
        }
    }

    /// `task.complete`: in_progress → completed, once finish-to-finish prerequisites completed and no subtask is open.
    public func complete(_ id: UUID, notes: String? = nil, actualCost: Money? = nil, expectedVersion: Int64? = nil,
                         by actor: Principal) async throws -> WorkTask {
        try await change(id, by: actor, .taskComplete, expectedVersion: expectedVersion) { task, tx in
            let from = task.status
            try task.move(to: .completed, via: "task.complete", now: tx.now)
            try await Self.checkDependencies(task, tx, forStart: false)
            let open = try await tx.tasks.children(of: task.id).filter { !$0.status.isTerminal }
            if !open.isEmpty {
                throw DocketError(.subtaskError,
                    "task \(task.idText) has open subtask(s): " + open.map(\.idText).joined(separator: ", "),
                    details: ["task_id": .string(task.idText), "subtasks": .array(open.map { .string($0.idText) })])
            }
            task.completionNotes = notes ?? task.completionNotes
            if let actualCost { task.actualCost = (task.actualCost ?? .zero) + actualCost }
            task.completedAt = tx.now
            task.deadlineAt = nil
            return EventDraft.taskTransition(task, from: from, actor: tx.actor.id, arrival: .taskCompleted,
                                             data: ["completion_notes": notes.map(JSONValue.string) ?? .null])
        }
    }

    /// `task.cancel`: any open task → cancelled; with `cascade`, its open subtasks (all the way down) too.
    public func cancel(_ id: UUID, reason: String? = nil, cascade: Bool = false, expectedVersion: Int64? = nil,
                       by actor: Principal) async throws -> WorkTask {
        try await change(id, by: actor, .taskCancel, expectedVersion: expectedVersion) { task, tx in
            let from = task.status
            try task.move(to: .cancelled, via: "task.cancel", now: tx.now)
            task.cancelReason = reason
            task.deadlineAt = nil
            var events = EventDraft.taskTransition(task, from: from, actor: tx.actor.id, arrival: .taskCancelled,
                                                   data: ["reason": reason.map(JSONValue.string) ?? .null])
            if cascade { events += try await Self.cancelSubtasks(of: task, reason: reason, tx) }
            return events
        }
    }

    /// `task.reopen`: completed or cancelled → pending (or straight to blocked when a start-gating prerequisite is unmet).
    public func reopen(_ id: UUID, expectedVersion: Int64? = nil, by actor: Principal) async throws -> WorkTask {
        try await change(id, by: actor, .taskReopen, expectedVersion: expectedVersion) { task, tx in
            let from = task.status
            try task.move(to: .pending, via: "task.reopen", now: tx.now)
            task.completedAt = nil
            task.cancelReason = nil
            var events = EventDraft.taskTransition(task, from: from, actor: tx.actor.id, arrival: .taskReopened)
            if try await !Self.unmetStartGates(task, tx).isEmpty {
                try task.move(to: .blocked, via: "task.reopen", now: tx.now)
                events += EventDraft.taskTransition(task, from: .pending, actor: tx.actor.id, arrival: .taskBlocked)
            }
            return events
        }
    }

    /// Refuses with `DEPENDENCY_ERROR` while a prerequisite does not allow this start or completion.
    static func checkDependencies(_ task: WorkTask, _ tx: TaskTransaction, forStart: Bool) async throws {
        let unmet = try await tx.dependencies.prerequisites(of: task.id)
            .filter { !$0.type.isMet(by: $0.prerequisiteStatus, forStart: forStart) }
        guard !unmet.isEmpty else { return }
        let list = unmet.map { "\($0.dependsOnId.uuidString.lowercased()) (\($0.type.rawValue), \($0.prerequisiteStatus.rawValue))" }
        throw DocketError(.dependencyError,
            "task \(task.idText) cannot \(forStart ? "start" : "complete"): unmet prerequisite(s) " + list.joined(separator: ", "),
            details: ["task_id": .string(task.idText), "unmet": .array(unmet.map(\.json))])
    }

    static func unmetStartGates(_ task: WorkTask, _ tx: TaskTransaction) async throws -> [TaskDependencyEdge] {
        try await tx.dependencies.prerequisites(of: task.id)
            .filter { $0.type.gatesStart && !$0.type.isMet(by: $0.prerequisiteStatus, forStart: true) }
    }

    static func cancelSubtasks(of parent: WorkTask, reason: String?, _ tx: TaskTransaction) async throws -> [EventDraft] {
        var events: [EventDraft] = []
        for var child in try await tx.tasks.children(of: parent.id, lock: true) {
            if !child.status.isTerminal {
                let from = child.status
                try child.move(to: .cancelled, via: "task.cancel", now: tx.now)
                child.cancelReason = reason ?? "parent \(parent.idText) cancelled"
                child.version += 1
                try await tx.tasks.update(child)
                events += EventDraft.taskTransition(child, from: from, actor: tx.actor.id, arrival: .taskCancelled,
                                                    data: ["parent_id": .string(parent.idText)])
            }
            events += try await cancelSubtasks(of: child, reason: reason, tx)
        }
        return events
    }
}
