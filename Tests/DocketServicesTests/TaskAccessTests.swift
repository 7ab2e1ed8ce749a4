import DocketCore
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

    @Test func otherTenantIsRefusedEverywhere() async throws {
        try await withTaskService { tasks, jobs, database in
            let job = try await jobs.make()
            let task = try await tasks.make("a's", ["job_id": .string(job.idText)])
            let other = try await tasks.make("other")
            let id = task.id, intruder = TaskActors.otherTenant
            let attempts: [(String, @Sendable () async throws -> Void)] = [
                ("get", { _ = try await tasks.get(id, by: intruder) }),
                ("update", { _ = try await tasks.update(id, Arguments(["title": .string("x")]), by: intruder) }),
                ("delete", { try await tasks.delete(id, by: intruder) }),
                ("start", { _ = try await tasks.start(id, by: intruder) }),
                ("complete", { _ = try await tasks.complete(id, by: intruder) }),
                ("cancel", { _ = try await tasks.cancel(id, by: intruder) }),
                ("reopen", { _ = try await tasks.reopen(id, by: intruder) }),
                ("assign", { _ = try await tasks.assign(id, assigneeId: "x", by: intruder) }),
                ("subtasks", { _ = try await tasks.subtasks(id, by: intruder) }),
                ("add_dependency", { _ = try await tasks.addDependency(id, dependsOn: other.id, by: intruder) }),
                ("remove_dependency", { _ = try await tasks.removeDependency(id, dependsOn: other.id, by: intruder) }),
                ("dependencies", { _ = try await tasks.dependencies(id, by: intruder) }),
                ("dependencies_complete", { _ = try await tasks.dependenciesComplete(id, by: intruder) }),
                ("update_context", { _ = try await tasks.updateContext(id, updates: ["x": .number(1)], by: intruder) }),
                ("set_priority", { _ = try await tasks.setPriority(id, .number(1), by: intruder) }),
                ("by_job", { _ = try await tasks.byJob(job.id, by: intruder) }),
                ("list in a", { _ = try await tasks.list(TaskFilter(), page: PageRequest(), tenant: "a", by: intruder) }),
                ("pending in a", { _ = try await tasks.pending(page: PageRequest(), tenant: "a", by: intruder) }),
                ("in_progress in a", { _ = try await tasks.inProgress(page: PageRequest(), tenant: "a", by: intruder) }),
                ("create in a", { _ = try await tasks.make("x", ["tenant_id": .string("a")], by: intruder) }),
            ]
            for (name, attempt) in attempts {
                #expect(await errorCode(attempt) == .permissionDenied, "\(name)")
            }
            #expect(await errorCode { _ = try await tasks.createSubtask(parent: id, Arguments(["title": .string("x")]), by: intruder) } == .permissionDenied)
            let bTask = try await tasks.make("b's", by: intruder)
            #expect(await errorCode { _ = try await tasks.addDependency(bTask.id, dependsOn: id, by: intruder) } == .permissionDenied)
            // A system actor sees both tenants but may not join them.
            let system = Principal(id: "sys", type: .system, tenantId: "ops", scopes: [.taskAdmin])
            #expect(await errorCode { _ = try await tasks.addDependency(bTask.id, dependsOn: id, by: system) } == .dependencyError)
            #expect(await errorCode { _ = try await tasks.createSubtask(parent: id, Arguments(["title": .string("x"), "tenant_id": .string("b")]), by: system) } == .subtaskError)
            #expect(try await tasks.get(id, by: TaskActors.writer) == task)
            #expect(try await topics(of: id, in: database) == ["task.created"])
        }
    }
}
