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
    var logger: Logger { database.logger }

    public init(database: Database, clock: @escaping @Sendable () -> Date = { Date().storedPrecision }) {
        self.database = database
        self.clock = clock
    }

    /// Changes one task in a transaction: scope (or ownership), lock, tenant, version, `body`, write, events.
    ///
    /// With `lockingGraph`, the tenant's dependency-graph lock is taken before the row lock, so that dependency changes
    /// queue on the graph first and never hold a task row while waiting for it (which deadlocks with a foreign-key check).
    func change(
        _ id: UUID, by actor: Principal, _ operation: ServiceOperation, expectedVersion: Int64? = nil,
        lockingGraph: Bool = false,
        _ body: @escaping @Sendable (inout WorkTask, TaskTransaction) async throws -> [EventDraft]
    ) async throws -> WorkTask {
        if !operation.isOwnerOperation { try Authorizer.check(actor, operation) }
        let now = clock()
        return try await database.transaction { connection in
            let tx = TaskTransaction(connection: connection, logger: logger, actor: actor, now: now)
            if lockingGraph, let peek = try await tx.tasks.find(id), actor.reaches(tenant: peek.tenantId) {
                try await tx.dependencies.lockGraph(tenant: peek.tenantId)
            }
            // Another tenant's task is, to a confined actor, indistinguishable from a missing one.
            guard var task = try await tx.tasks.find(id, lock: true), actor.reaches(tenant: task.tenantId) else { throw Self.notFound(id) }
            try Authorizer.check(actor, operation, tenant: task.tenantId, owner: task.ownerId)
            if let expectedVersion, expectedVersion != task.version {
                throw DocketError(.concurrencyError,
                    "task \(task.idText) is at version \(task.version), not the expected \(expectedVersion)",
                    details: ["task_id": .string(task.idText), "version": .number(Double(task.version)),
                              "expected_version": .number(Double(expectedVersion))])
            }
            let before = task
            var events = try await body(&task, tx)
            guard task != before || !events.isEmpty else { return task }
            task.version = before.version + 1
            task.updatedAt = now
            try await tx.tasks.update(task)
            events += try await tx.followUps(after: before, now: task)
            try await tx.events.append(events)
            return task
        }
    }

    /// Reads one task the actor may see.
    func read(_ id: UUID, by actor: Principal, _ operation: ServiceOperation) async throws -> WorkTask {
        try Authorizer.check(actor, operation)
        let task = try await database.read { connection in try await TaskQueries(connection, logger: logger).find(id) }
        guard let task, actor.reaches(tenant: task.tenantId) else { throw Self.notFound(id) }
        try Authorizer.check(actor, operation, tenant: task.tenantId)
        return task
    }

    static func notFound(_ id: UUID) -> DocketError {
        DocketError(.taskNotFound, "task \(id.uuidString.lowercased()) does not exist",
                    details: ["task_id": .string(id.uuidString.lowercased())])
    }
}

/// The queries of one task transaction, with who acts and when.
struct TaskTransaction: Sendable {
    let connection: PostgresConnection
    let logger: Logger
    let actor: Principal
    let now: Date

    var tasks: TaskQueries { TaskQueries(connection, logger: logger) }
    var dependencies: TaskDependencyQueries { TaskDependencyQueries(connection, logger: logger) }
    var events: EventQueries { EventQueries(connection, logger: logger) }
    var jobs: JobQueries { JobQueries(connection, logger: logger) }
    var links: JobTaskQueries { JobTaskQueries(connection, logger: logger) }

    /// The reactions a status change causes, applied in the same transaction (SPEC 2.6): dependents are re-evaluated
    /// when a task starts or completes, and jobs learn when their last primary/step task completed.
    func followUps(after before: WorkTask, now task: WorkTask) async throws -> [EventDraft] {
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
