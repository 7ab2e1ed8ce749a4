import DocketCore
import DocketPostgres
import Foundation

/// The cross-service reactions of SPEC 2.6, applied inside the transaction of the change that causes them.
///
/// Because the reaction commits (or rolls back) with its cause, a crash between the event's commit and its handling
/// cannot lose it, and there is no replay that could apply it twice: the event and its effect are one commit.
enum TaskReactions {
    /// Blocked dependents of `task` whose start-gating prerequisites are now all met go back to pending.
    static func unblockDependents(of task: WorkTask, _ tx: TaskTransaction) async throws -> [EventDraft] {
        var events: [EventDraft] = []
        for edge in try await tx.dependencies.dependents(of: task.id) where edge.type.gatesStart {
            guard var dependent = try await tx.tasks.find(edge.taskId, lock: true), dependent.status == .blocked else { continue }
            let unmet = try await tx.dependencies.prerequisites(of: dependent.id)
                .filter { $0.type.gatesStart && !$0.type.isMet(by: $0.prerequisiteStatus, forStart: true) }
            guard unmet.isEmpty else { continue }
            let from = dependent.status
            try dependent.move(to: .pending, via: TaskStatus.unblockOperation, now: tx.now)
            dependent.version += 1
            try await tx.tasks.update(dependent)
            events += EventDraft.taskTransition(dependent, from: from, actor: tx.actor.id, arrival: .taskUnblocked,
                                                data: ["cause": .string(task.idText)])
        }
        return events
    }

    /// `job.tasks_completed` for each running job whose last open primary/step task was `task`.
    static func jobsCompleted(by task: WorkTask, _ tx: TaskTransaction) async throws -> [EventDraft] {
        try await tx.links.jobsCompleted(by: task.id).map { job in
            EventDraft(topic: .jobTasksCompleted, tenantId: task.tenantId, entityType: .job,
                              entityId: job.uuidString.lowercased(), actorId: tx.actor.id,
                              data: ["last_task_id": .string(task.idText)])
        }
    }

    /// A cancelled job cancels its open tasks; graceful mode lets in-progress ones finish.
    static func jobCancelled(_ job: Job, mode: StopMode, connection tx: TaskTransaction) async throws -> [EventDraft] {
        var events: [EventDraft] = []
        for var task in try await tx.tasks.openTasks(ofJob: job.id) {
            if task.status == .inProgress, mode == .graceful { continue }
            let from = task.status
            try task.move(to: .cancelled, via: "job.cancel", now: tx.now)
            task.cancelReason = "job \(job.idText) cancelled"
            task.version += 1
            try await tx.tasks.update(task)
            events += EventDraft.taskTransition(task, from: from, actor: tx.actor.id, arrival: .taskCancelled,
                                                data: ["reason": .string(task.cancelReason ?? ""), "job_id": .string(job.idText)])
        }
        return events
    }
}
