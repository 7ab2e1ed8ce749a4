import DocketCore
import DocketPostgres
import DocketServices
import Foundation
import Testing

struct TaskDependencyTests {
    let w = TaskActors.writer

    func chain(_ count: Int, _ tasks: TaskService) async throws -> [WorkTask] {
        var made: [WorkTask] = []
        for index in 0..<count { made.append(try await tasks.make("t\(index)")) }
        return made
    }

    @Test func cyclesOfTwoThreeAndFiftyAreRefusedWithTheirPath() async throws {
        try await withTaskService { tasks, _, _ in
            for length in [2, 3, 50] {
                let nodes = try await chain(length, tasks)
                // t0 depends on t1, t1 on t2, …: the edge t(last) → t0 would close the cycle.
                for index in 0..<(length - 1) {
                    _ = try await tasks.addDependency(nodes[index].id, dependsOn: nodes[index + 1].id, type: .follows, by: w)
                }
                let last = nodes[length - 1], first = nodes[0]
                let error = try await #require(throws: DocketError.self) {
                    _ = try await tasks.addDependency(last.id, dependsOn: first.id, type: .follows, by: w)
                }
                #expect(error.code == .circularDependency)
                let path = error.details["path"].flatMap { value -> [String]? in
                    guard case .array(let items) = value else { return nil }
                    return items.compactMap { if case .string(let s) = $0 { s } else { nil } }
                }
                #expect(path == [last.idText] + nodes.map(\.idText), "length \(length): the path runs around the cycle")
                #expect(try await tasks.dependencies(last.id, by: w).isEmpty, "nothing was added")
            }
            let lone = try await tasks.make()
            #expect(await errorCode { _ = try await tasks.addDependency(lone.id, dependsOn: lone.id, by: w) } == .circularDependency)
        }
    }

    @Test func aDiamondIsAllowed() async throws {
        try await withTaskService { tasks, _, _ in
            let (top, left, right, bottom) = (try await tasks.make("top"), try await tasks.make("left"),
                                              try await tasks.make("right"), try await tasks.make("bottom"))
            _ = try await tasks.addDependency(left.id, dependsOn: top.id, by: w)
            _ = try await tasks.addDependency(right.id, dependsOn: top.id, by: w)
            _ = try await tasks.addDependency(bottom.id, dependsOn: left.id, by: w)
            _ = try await tasks.addDependency(bottom.id, dependsOn: right.id, by: w)
            #expect(try await tasks.dependencies(bottom.id, by: w).count == 2)
        }
    }

    @Test func concurrentAddsThatTogetherCloseACycleOneWins() async throws {
        try await withTaskService { tasks, _, _ in
            for _ in 0..<5 {
                let a = try await tasks.make("a"), b = try await tasks.make("b")
                let results = try await withThrowingTaskGroup(of: DocketError.Code?.self) { group in
                    group.addTask { await errorCode { _ = try await tasks.addDependency(a.id, dependsOn: b.id, type: .follows, by: w) } }
                    group.addTask { await errorCode { _ = try await tasks.addDependency(b.id, dependsOn: a.id, type: .follows, by: w) } }
                    return try await group.reduce(into: [DocketError.Code?]()) { $0.append($1) }
                }
                #expect(results.filter { $0 == nil }.count == 1)
                #expect(results.filter { $0 == .circularDependency }.count == 1)
            }
        }
    }

    @Test func finishToStartGatesAndUnblocks() async throws {
        try await withTaskService { tasks, _, database in
            let prerequisite = try await tasks.make("first"), dependent = try await tasks.make("second")
            let blocked = try await tasks.addDependency(dependent.id, dependsOn: prerequisite.id, type: DependencyType(name: "blocks"), by: w)
            #expect(blocked.status == .blocked)
            #expect(await errorCode { _ = try await tasks.start(dependent.id, by: w) } == .dependencyError)
            #expect(try await tasks.dependenciesComplete(dependent.id, by: w).complete == false)
            _ = try await tasks.start(prerequisite.id, by: w)
            #expect(try await tasks.get(dependent.id, by: w).status == .blocked, "started is not enough for finish-to-start")
            _ = try await tasks.complete(prerequisite.id, by: w)
            #expect(try await tasks.get(dependent.id, by: w).status == .pending, "unblocked by the last prerequisite")
            #expect(try await topics(of: dependent.id, in: database).contains("task.unblocked"))
            #expect(try await tasks.dependenciesComplete(dependent.id, by: w).complete)
            #expect(try await tasks.start(dependent.id, by: w).status == .inProgress)
        }
    }

    @Test func startToStartGatesUntilThePrerequisiteStarts() async throws {
        try await withTaskService { tasks, _, _ in
            let prerequisite = try await tasks.make(), dependent = try await tasks.make()
            _ = try await tasks.addDependency(dependent.id, dependsOn: prerequisite.id, type: .startToStart, by: w)
            #expect(await errorCode { _ = try await tasks.start(dependent.id, by: w) } == .dependencyError)
            _ = try await tasks.start(prerequisite.id, by: w)
            #expect(try await tasks.get(dependent.id, by: w).status == .pending)
            #expect(try await tasks.start(dependent.id, by: w).status == .inProgress)
        }
    }

    @Test func finishToFinishGatesCompletionOnly() async throws {
        try await withTaskService { tasks, _, _ in
            let prerequisite = try await tasks.make(), dependent = try await tasks.make()
            let added = try await tasks.addDependency(dependent.id, dependsOn: prerequisite.id, type: .finishToFinish, by: w)
            #expect(added.status == .pending, "finish-to-finish does not block a start")
            _ = try await tasks.start(dependent.id, by: w)
            #expect(await errorCode { _ = try await tasks.complete(dependent.id, by: w) } == .dependencyError)
            _ = try await tasks.start(prerequisite.id, by: w)
            _ = try await tasks.complete(prerequisite.id, by: w)
            #expect(try await tasks.complete(dependent.id, by: w).status == .completed)
        }
    }

    @Test func followsNeverGates() async throws {
        try await withTaskService { tasks, _, _ in
            let prerequisite = try await tasks.make(), dependent = try await tasks.make()
            #expect(try await tasks.addDependency(dependent.id, dependsOn: prerequisite.id, type: .follows, by: w).status == .pending)
            _ = try await tasks.start(dependent.id, by: w)
            #expect(try await tasks.complete(dependent.id, by: w).status == .completed)
        }
    }

    @Test func removingTheLastGateUnblocksAndCrossTenantIsRefused() async throws {
        try await withTaskService { tasks, _, _ in
            let prerequisite = try await tasks.make(), dependent = try await tasks.make()
            _ = try await tasks.addDependency(dependent.id, dependsOn: prerequisite.id, by: w)
            #expect(try await tasks.removeDependency(dependent.id, dependsOn: prerequisite.id, by: w).status == .pending)
            #expect(await errorCode { _ = try await tasks.removeDependency(dependent.id, dependsOn: prerequisite.id, by: w) } == .notFound)
            let foreign = try await tasks.make("b's", by: TaskActors.otherTenant)
            #expect(await errorCode { _ = try await tasks.addDependency(dependent.id, dependsOn: foreign.id, by: w) } == .taskNotFound,
                    "another tenant's task is a missing one to a confined actor")
            #expect(await errorCode { _ = try await tasks.addDependency(dependent.id, dependsOn: UUID(), by: w) } == .taskNotFound)
            #expect(throws: DocketError.self) { try DependencyType(name: "sometimes") }
        }
    }
}
