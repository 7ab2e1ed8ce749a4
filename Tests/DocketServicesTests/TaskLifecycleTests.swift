import DocketCore
import DocketPostgres
import DocketServices
import Foundation
import Testing

struct TaskLifecycleTests {
    enum Attempt: String, CaseIterable, Sendable {
        case start, complete, cancel, reopen

        var target: (TaskStatus, String) {
            switch self {
            case .start: (.inProgress, "task.start")
            case .complete: (.completed, "task.complete")
            case .cancel: (.cancelled, "task.cancel")
            case .reopen: (.pending, "task.reopen")
            }
        }

        func run(_ tasks: TaskService, _ id: UUID) async throws {
            switch self {
            case .start: _ = try await tasks.start(id, by: TaskActors.writer)
            case .complete: _ = try await tasks.complete(id, by: TaskActors.writer)
            case .cancel: _ = try await tasks.cancel(id, by: TaskActors.writer)
            case .reopen: _ = try await tasks.reopen(id, by: TaskActors.writer)
            }
        }
    }

    /// A task in `status`, reached through the service (blocked: by an unmet follows-free prerequisite).
    func task(in status: TaskStatus, _ tasks: TaskService) async throws -> UUID {
        let id = try await tasks.make().id
        let w = TaskActors.writer
        switch status {
        case .pending: break
        case .blocked:
            let prerequisite = try await tasks.make("prerequisite")
            _ = try await tasks.addDependency(id, dependsOn: prerequisite.id, by: w)
        case .inProgress: _ = try await tasks.start(id, by: w)
        case .completed:
            _ = try await tasks.start(id, by: w)
            _ = try await tasks.complete(id, by: w)
        case .cancelled: _ = try await tasks.cancel(id, by: w)
        }
        #expect(try await tasks.get(id, by: w).status == status)
        return id
    }

    @Test(arguments: TaskStatus.allCases)
    func everyOperationFrom(_ status: TaskStatus) async throws {
        try await withTaskService { tasks, _, _ in
            for attempt in Attempt.allCases {
                let id = try await task(in: status, tasks)
                let before = try await tasks.get(id, by: TaskActors.writer)
                let (target, operation) = attempt.target
                let allowed = TaskStatus.machine.allows(from: status, to: target, via: operation)
                let code = await errorCode { try await attempt.run(tasks, id) }
                if allowed {
                    #expect(code == nil, "\(status) → \(attempt)")
                    #expect(try await tasks.get(id, by: TaskActors.writer).status == target)
                } else {
                    // Starting a blocked task names its prerequisites (DEPENDENCY_ERROR); the rest is the machine's.
                    let expected: DocketError.Code = (status == .blocked && attempt == .start) ? .dependencyError : .invalidTransition
                    #expect(code == expected, "\(status) → \(attempt)")
                    #expect(try await tasks.get(id, by: TaskActors.writer) == before)
                }
            }
        }
    }

    @Test func crudAndFields() async throws {
        try await withTaskService { tasks, jobs, database in
            let job = try await jobs.make()
            let task = try await tasks.make("write report", ["priority": .string("critical"), "job_id": .string(job.idText),
                                                              "execution_context": .object(["a": .object(["x": .number(1)])])])
            #expect(task.priority == 100)
            #expect(task.ownerId == TaskActors.writer.id)
            #expect(task.jobId == job.id)
            #expect(await errorCode { _ = try await tasks.make("") } == .validationError)
            #expect(await errorCode { _ = try await tasks.make("x", ["job_id": .string(UUID().uuidString)]) } == .jobNotFound)
            #expect(await errorCode { _ = try await tasks.make("x", ["parent_id": .string(UUID().uuidString)]) } == .taskNotFound)
            #expect(await errorCode { _ = try await tasks.get(UUID(), by: TaskActors.reader) } == .taskNotFound)

            let merged = try await tasks.updateContext(task.id, updates: ["a": .object(["y": .number(2)]), "b": .bool(true)], by: TaskActors.writer)
            #expect(merged.executionContext == ["a": .object(["x": .number(1), "y": .number(2)]), "b": .bool(true)])
            let replaced = try await tasks.updateContext(task.id, updates: ["c": .number(3)], merge: false, by: TaskActors.writer)
            #expect(replaced.executionContext == ["c": .number(3)])

            #expect(try await tasks.setPriority(task.id, .string("LOW"), by: TaskActors.writer).priority == 25)
            #expect(try await tasks.setPriority(task.id, .number(90), by: TaskActors.writer).priority == 90)
            #expect(await errorCode { _ = try await tasks.setPriority(task.id, .number(0), by: TaskActors.writer) } == .validationError)

            let assigned = try await tasks.assign(task.id, assigneeId: "agent-7", assigneeType: .agent, by: TaskActors.writer)
            #expect(assigned.assigneeId == "agent-7")
            #expect(try await tasks.byJob(job.id, by: TaskActors.reader).map(\.id) == [task.id])

            let updated = try await tasks.update(task.id, Arguments(["description": .string("d"), "expected_version": .number(Double(assigned.version))]), by: TaskActors.writer)
            #expect(updated.description == "d")
            #expect(await errorCode { _ = try await tasks.update(task.id, Arguments(["expected_version": .number(1)]), by: TaskActors.writer) } == .concurrencyError)

            let events = try await topics(of: task.id, in: database)
            #expect(events.contains("task.context_updated") && events.contains("task.priority_changed") && events.contains("task.assigned"))
        }
    }

    @Test func subtasks() async throws {
        try await withTaskService { tasks, _, _ in
            let parent = try await tasks.make("parent")
            let child = try await tasks.createSubtask(parent: parent.id, Arguments(["title": .string("child")]), by: TaskActors.writer)
            let grandchild = try await tasks.createSubtask(parent: child.id, Arguments(["title": .string("grandchild")]), by: TaskActors.writer)
            #expect(try await tasks.subtasks(parent.id, by: TaskActors.reader).map(\.id) == [child.id])
            #expect(await errorCode { _ = try await tasks.createSubtask(parent: parent.id, Arguments(["title": .string("x")]), by: TaskActors.otherTenant) } == .taskNotFound,
                    "another tenant's parent is a missing parent to a confined actor")

            _ = try await tasks.start(parent.id, by: TaskActors.writer)
            #expect(await errorCode { _ = try await tasks.complete(parent.id, by: TaskActors.writer) } == .subtaskError)
            #expect(await errorCode { try await tasks.delete(parent.id, by: TaskActors.writer) } == .subtaskError)

            let cancelled = try await tasks.cancel(child.id, reason: "scope cut", cascade: true, by: TaskActors.writer)
            #expect(cancelled.status == .cancelled)
            #expect(try await tasks.get(grandchild.id, by: TaskActors.reader).status == .cancelled, "cascade reaches every level")
            #expect(try await tasks.complete(parent.id, by: TaskActors.writer).status == .completed)

            try await tasks.delete(parent.id, cascade: true, by: TaskActors.writer)
            #expect(await errorCode { _ = try await tasks.get(grandchild.id, by: TaskActors.reader) } == .taskNotFound)
        }
    }

    @Test func listingOrderFiltersAndPaging() async throws {
        try await withTaskService { tasks, _, _ in
            var made: [WorkTask] = []
            for (index, priority) in [10, 90, 50, 90, 10, 50, 75].enumerated() {
                made.append(try await tasks.make("t\(index)", ["priority": .number(Double(priority))]))
            }
            let expected = made.sorted { a, b in
                if a.priority != b.priority { return a.priority > b.priority }
                if a.createdAt != b.createdAt { return a.createdAt < b.createdAt }
                return a.id.uuidString < b.id.uuidString
            }.map(\.id)
            var seen: [UUID] = []
            var cursor: Cursor?
            repeat {
                let page = try await tasks.list(TaskFilter(), page: PageRequest(after: cursor, limit: 3, order: .desc), by: TaskActors.reader)
                seen += page.items.map(\.id)
                cursor = page.nextCursor
            } while cursor != nil
            #expect(seen == expected, "priority desc, then oldest first, across pages")
            let reversed = try await tasks.list(TaskFilter(), page: PageRequest(limit: 100, order: .asc), by: TaskActors.reader)
            #expect(reversed.items.map(\.id) == expected.reversed())
            let high = try TaskFilter(Arguments(["priority_min": .number(75)]))
            #expect(try await tasks.list(high, page: PageRequest(order: .desc), by: TaskActors.reader).items.count == 3)
            _ = try await tasks.start(made[0].id, by: TaskActors.writer)
            #expect(try await tasks.inProgress(page: PageRequest(order: .desc), by: TaskActors.reader).items.map(\.id) == [made[0].id])
            #expect(try await tasks.pending(page: PageRequest(order: .desc), by: TaskActors.reader).items.count == 6)
        }
    }
}
