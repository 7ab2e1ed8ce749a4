import DocketCore
import DocketTestSupport
import DocketPostgres
import DocketServices
import Foundation
import Testing

struct TaskAccessTests {
    @Test func ownerWithReadOnlyCompletesOwnTaskNotAnother() async throws {
        try await withTaskService { tasks, _, _ in
            let owner = Principal(id: "owner-a", type: .user, tenantId: "a", scopes: [.taskRead, .taskWrite])
            let mine = try await tasks.make("mine", by: owner)
            let theirs = try await tasks.make("theirs")
            let readOnlyOwner = TaskActors.owner  // same id as `owner`, task:read only
            _ = try await tasks.update(mine.id, Arguments(["description": .string("note")]), by: readOnlyOwner)
            _ = try await tasks.start(mine.id, by: readOnlyOwner)
            #expect(try await tasks.complete(mine.id, by: readOnlyOwner).status == .completed)
            #expect(await errorCode { _ = try await tasks.start(theirs.id, by: readOnlyOwner) } == .permissionDenied)
            #expect(await errorCode { _ = try await tasks.cancel(theirs.id, by: readOnlyOwner) } == .permissionDenied)
            #expect(await errorCode { try await tasks.delete(mine.id, by: readOnlyOwner) } == .permissionDenied, "delete is not an owner right")
            #expect(await errorCode { _ = try await tasks.make("x", by: readOnlyOwner) } == .permissionDenied)
        }
    }

    /// To tenant B, tenant A's tasks (and job) are indistinguishable from missing ones; naming tenant A is refused.
    @Test func otherTenantIsRefusedEverywhere() async throws {
        try await withTaskService { tasks, jobs, database in
            let job = try await jobs.make()
            let task = try await tasks.make("a's", ["job_id": .string(job.idText)])
            let other = try await tasks.make("other")
            let id = task.id, intruder = TaskActors.otherTenant
            let byID: [(String, @Sendable (UUID) async throws -> Void)] = [
                ("get", { _ = try await tasks.get($0, by: intruder) }),
                ("update", { _ = try await tasks.update($0, Arguments(["title": .string("x")]), by: intruder) }),
                ("delete", { try await tasks.delete($0, by: intruder) }),
                ("start", { _ = try await tasks.start($0, by: intruder) }),
                ("complete", { _ = try await tasks.complete($0, by: intruder) }),
                ("cancel", { _ = try await tasks.cancel($0, by: intruder) }),
                ("reopen", { _ = try await tasks.reopen($0, by: intruder) }),
                ("assign", { _ = try await tasks.assign($0, assigneeId: "x", by: intruder) }),
                ("subtasks", { _ = try await tasks.subtasks($0, by: intruder) }),
                ("add_dependency", { _ = try await tasks.addDependency($0, dependsOn: other.id, by: intruder) }),
                ("remove_dependency", { _ = try await tasks.removeDependency($0, dependsOn: other.id, by: intruder) }),
                ("dependencies", { _ = try await tasks.dependencies($0, by: intruder) }),
                ("dependencies_complete", { _ = try await tasks.dependenciesComplete($0, by: intruder) }),
                ("update_context", { _ = try await tasks.updateContext($0, updates: ["x": .number(1)], by: intruder) }),
                ("set_priority", { _ = try await tasks.setPriority($0, .number(1), by: intruder) }),
                ("create_subtask", { _ = try await tasks.createSubtask(parent: $0, Arguments(["title": .string("x")]), by: intruder) }),
            ]
            let bTask = try await tasks.make("b's", by: intruder)
            let asPrerequisite: (String, @Sendable (UUID) async throws -> Void) =
                ("add_dependency on it", { _ = try await tasks.addDependency(bTask.id, dependsOn: $0, by: intruder) })
            for (name, attempt) in byID + [asPrerequisite] {
                let theirs = await refusal { try await attempt(id) }
                let missing = UUID()
                let none = await refusal { try await attempt(missing) }
                #expect(theirs?.code == .taskNotFound, "\(name)")
                #expect(theirs.map { anonymized($0, id) } == none.map { anonymized($0, missing) },
                        "\(name): another tenant's task answers as a missing one")
            }
            let theirJob = await refusal { _ = try await tasks.byJob(job.id, by: intruder) }
            let noJob = UUID()
            #expect(theirJob?.code == .jobNotFound)
            #expect(theirJob.map { anonymized($0, job.id) } == (await refusal { _ = try await tasks.byJob(noJob, by: intruder) }).map { anonymized($0, noJob) })
            let byTenant: [(String, @Sendable () async throws -> Void)] = [
                ("list in a", { _ = try await tasks.list(TaskFilter(), page: PageRequest(), tenant: "a", by: intruder) }),
                ("pending in a", { _ = try await tasks.pending(page: PageRequest(), tenant: "a", by: intruder) }),
                ("in_progress in a", { _ = try await tasks.inProgress(page: PageRequest(), tenant: "a", by: intruder) }),
                ("create in a", { _ = try await tasks.make("x", ["tenant_id": .string("a")], by: intruder) }),
            ]
            for (name, attempt) in byTenant {
                #expect(await errorCode(attempt) == .permissionDenied, "\(name)")
            }
            // A system actor sees both tenants but may not join them.
            let system = Principal(id: "sys", type: .system, tenantId: "ops", scopes: [.taskAdmin])
            #expect(await errorCode { _ = try await tasks.addDependency(bTask.id, dependsOn: id, by: system) } == .dependencyError)
            #expect(await errorCode { _ = try await tasks.createSubtask(parent: id, Arguments(["title": .string("x"), "tenant_id": .string("b")]), by: system) } == .subtaskError)
            #expect(try await tasks.get(id, by: TaskActors.writer) == task)
            #expect(try await topics(of: id, in: database) == ["task.created"])
        }
    }
}
