import DocketCore
import DocketPostgres
import Foundation
extension JobService {
    /// `job.link_task`: links a task of the same tenant (or changes the link's role).
    public func linkTask(_ id: UUID, task: UUID, relationship: TaskRelationship = .step,
                         metadata: [String: JSONValue] = [:], by actor: Principal) async throws -> Job {
        try await store.change(id, by: actor, .jobLinkTask) { job, tx in
            guard try await tx.links.link(job: job.id, task: task, tenant: job.tenantId,
                                          relationship: relationship.rawValue, metadata: metadata) else {
                throw DocketError(.taskNotFound, "task \(task.uuidString.lowercased()) does not exist in tenant \(job.tenantId)",
                                  details: ["task_id": .string(task.uuidString.lowercased())])
            }
            return [.job(.jobTaskLinked, job, actor: tx.actor.id, data: [
                "task_id": .string(task.uuidString.lowercased()), "relationship_type": .string(relationship.rawValue),
            ])]
        }
    }

    /// `job.unlink_task`: removes a link; `NOT_FOUND` when there was none.
    public func unlinkTask(_ id: UUID, task: UUID, by actor: Principal) async throws -> Job {
        try await store.change(id, by: actor, .jobUnlinkTask) { job, tx in
            guard try await tx.links.unlink(job: job.id, task: task) else {
                throw DocketError(.notFound, "task \(task.uuidString.lowercased()) is not linked to job \(job.idText)")
            }
            return [.job(.jobTaskUnlinked, job, actor: tx.actor.id, data: ["task_id": .string(task.uuidString.lowercased())])]
        }
    }
}
