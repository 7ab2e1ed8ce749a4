import DocketCore
import DocketPostgres
import Foundation

extension TaskService {
    /// The timeout sweep's rollback of a task in progress past `timeout_seconds`: back to pending (`task.timed_out`).
    public func expire(_ id: UUID, by actor: Principal) async throws -> WorkTask {
        try await change(id, by: actor, .taskUpdate) { task, tx in
            guard task.status == .inProgress, let deadline = task.deadlineAt, deadline <= tx.now else { return [] }
            try task.move(to: .pending, via: "task.timeout", now: tx.now)
            task.deadlineAt = nil
            task.startedAt = nil
            return EventDraft.taskTransition(task, from: .inProgress, actor: tx.actor.id, arrival: .taskTimedOut,
                                             data: ["timeout_seconds": task.timeoutSeconds.map { .number(Double($0)) } ?? .null])
        }
    }
}
