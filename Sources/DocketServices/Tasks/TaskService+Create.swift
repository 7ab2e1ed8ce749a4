import DocketCore
import DocketPostgres
import Foundation

extension TaskService {
    /// `task.create`: a pending task owned by the actor, optionally under a parent and for a job of the same tenant.
    public func create(_ input: TaskCreate, by actor: Principal) async throws -> WorkTask {
        try await store.inTenant(input.tenantId, by: actor, .taskCreate, write: true) { tx, tenant in
            var created = WorkTask(id: .random(), tenantId: tenant, title: input.title, ownerId: actor.id, now: tx.now)
            input.fields.apply(to: &created)
            created.parentId = input.parentId
            created.jobId = input.jobId
            var events = [EventDraft.task(.taskCreated, created, actor: actor.id, data: ["title": .string(created.title)])]
            if let parentId = input.parentId {
                let missing = DocketError(.taskNotFound, "parent task \(parentId.uuidString.lowercased()) does not exist",
                                          details: ["parent_id": .string(parentId.uuidString.lowercased())])
                guard let parent = try await tx.tasks.find(parentId, lock: true) else { throw missing }
                try Self.refuseCrossTenant(parent, from: tenant, actor: actor, what: "a subtask", missing: missing)
                guard !parent.status.isTerminal else {
                    throw DocketError(.subtaskError, "parent task \(parent.idText) is \(parent.status.rawValue); reopen it to add subtasks")
                }
                events.append(.task(.taskSubtaskCreated, parent, actor: actor.id, data: ["subtask_id": .string(created.idText)]))
            }
            if let jobId = input.jobId, !(try await tx.tasks.jobExists(jobId, tenant: tenant)) {
                throw DocketError(.jobNotFound, "job \(jobId.uuidString.lowercased()) does not exist in tenant \(tenant)",
                                  details: ["job_id": .string(jobId.uuidString.lowercased())])
            }
            try await tx.tasks.insert(created)
            try await tx.events.append(events)
            return created
        }
    }

    /// Another tenant's task is `TASK_NOT_FOUND` for an actor confined to its tenant (it cannot tell it from a missing
    /// one), and `SUBTASK_ERROR` / `DEPENDENCY_ERROR` for a system actor (who may see both tenants but may not join them).
    static func refuseCrossTenant(_ other: WorkTask, from tenant: String, actor: Principal, what: String,
                                  missing: DocketError) throws(DocketError) {
        guard other.tenantId != tenant else { return }
        guard actor.reaches(tenant: other.tenantId) else { throw missing }
        throw DocketError(what == "a subtask" ? .subtaskError : .dependencyError,
                          "\(what) cannot cross tenants: task \(other.idText) is in tenant \(other.tenantId), not \(tenant)")
    }

    /// `task.create_subtask`: `task.create` under `parent`.
    public func createSubtask(parent: UUID, _ input: TaskCreate, by actor: Principal) async throws -> WorkTask {
        var input = input
        input.parentId = parent
        return try await create(input, by: actor)
    }

    /// `task.update`: the mutable fields only (owners may with `task:read`), optionally guarded by `expected_version`.
    public func update(_ id: UUID, _ input: TaskInput, expectedVersion: Int64? = nil, by actor: Principal) async throws -> WorkTask {
        try await change(id, by: actor, .taskUpdate, expectedVersion: expectedVersion) { task, tx in
            input.apply(to: &task)
            return [.task(.taskUpdated, task, actor: tx.actor.id,
                          data: ["fields": .array(input.changedFields.map(JSONValue.string))])]
        }
    }

    /// `task.delete`: refused while subtasks exist unless `cascade`, which deletes them too.
    public func delete(_ id: UUID, cascade: Bool = false, by actor: Principal) async throws {
        try Authorizer.check(actor, .taskDelete)
        try await store.transaction(by: actor) { tx in
            let task = try await VersionedStore<WorkTask>.locked(id, by: actor, .taskDelete, tx)
            let children = try await tx.tasks.children(of: id)
            if !children.isEmpty, !cascade {
                throw DocketError(.subtaskError, "task \(task.idText) has \(children.count) subtask(s); delete with cascade",
                                  details: ["task_id": .string(task.idText), "subtasks": .number(Double(children.count))])
            }
            try await tx.tasks.delete(id)
            try await tx.events.append([.task(.taskDeleted, task, actor: actor.id,
                                              data: ["cascade": .bool(cascade), "subtasks": .number(Double(children.count))])])
        }
    }
}
