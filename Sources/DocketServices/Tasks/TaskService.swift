import DocketCore
import DocketPostgres
import Foundation
import Logging
import PostgresNIO

/// Every task operation of SPEC 2.5 over PostgreSQL, with the same discipline as jobs: scope, lock, tenant, owner
/// rights, input, status machine, optimistic concurrency and events in one transaction.
public struct TaskService: Sendable {
    let database: Database
    let clock: @Sendable () -> Date
    /// Set on the copy a leader's sweep uses (`during(_:)`): every transaction is fenced by the term.
    private(set) var term: LeaderTerm?
    var logger: Logger { database.logger }

    public init(database: Database, clock: @escaping @Sendable () -> Date = { Date().storedPrecision }) {
        self.database = database
        self.clock = clock
    }

    /// This service working for a leader's sweep: its transactions are fenced by `term`.
    public func during(_ term: LeaderTerm) -> TaskService {
        var fenced = self
        fenced.term = term
        return fenced
    }

    var store: VersionedStore<WorkTask> { VersionedStore(database: database, clock: clock, term: term) }

    /// Changes one task in a transaction (`VersionedStore.change`).
    ///
    /// With `lockingGraph`, the tenant's dependency-graph lock is taken before the row lock, so that dependency changes
    /// queue on the graph first and never hold a task row while waiting for it (which deadlocks with a foreign-key check).
    func change(
        _ id: UUID, by actor: Principal, _ operation: ServiceOperation, expectedVersion: Int64? = nil,
        lockingGraph: Bool = false,
        _ body: @escaping @Sendable (inout WorkTask, TaskTransaction) async throws -> [EventDraft]
    ) async throws -> WorkTask {
        guard lockingGraph else { return try await store.change(id, by: actor, operation, expectedVersion: expectedVersion, body) }
        return try await store.change(id, by: actor, operation, expectedVersion: expectedVersion, prepare: { tx in
            if let peek = try await tx.tasks.find(id, lock: false), tx.actor.reaches(tenant: peek.tenantId) {
                try await tx.dependencies.lockGraph(tenant: peek.tenantId)
            }
        }, body)
    }
}

extension ServiceTransaction {
    /// The reactions a status change causes, applied in the same transaction (SPEC 2.6): dependents are re-evaluated
    /// when a task starts or completes, and jobs learn when their last primary/step task completed.
    func taskFollowUps(after before: WorkTask, now task: WorkTask) async throws -> [EventDraft] {
        guard before.status != task.status else { return [] }
        var events: [EventDraft] = []
        if task.status == .inProgress || task.status == .completed {
            events += try await TaskReactions.unblockDependents(of: task, self)
        }
        if task.status == .completed {
            events += try await TaskReactions.jobsCompleted(by: task, self)
        }
        return events
    }
}

extension EventDraft {
    /// An event about a task.
    static func task(_ topic: Topic, _ task: WorkTask, actor: String?, data: [String: JSONValue] = [:]) -> EventDraft {
        EventDraft(topic: topic, tenantId: task.tenantId, entityType: .task, entityId: task.idText, actorId: actor, data: data)
    }

    /// `task.status_changed {from, to}` plus the arrival topic when there is one.
    static func taskTransition(_ task: WorkTask, from: TaskStatus, actor: String?, arrival: Topic?,
                               data: [String: JSONValue] = [:]) -> [EventDraft] {
        var events = [EventDraft.task(.taskStatusChanged, task, actor: actor,
                                      data: ["from": .string(from.rawValue), "to": .string(task.status.rawValue)])]
        if let arrival { events.append(.task(arrival, task, actor: actor, data: data)) }
        return events
    }
}
