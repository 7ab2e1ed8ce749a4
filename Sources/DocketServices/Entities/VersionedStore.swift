import DocketCore
import DocketPostgres
import Foundation
import Logging
import PostgresNIO
import Synchronization

/// An entity the services change under the versioned discipline: jobs and tasks.
protocol VersionedEntity: Sendable, Equatable {
    var id: UUID { get }
    var idText: String { get }
    var tenantId: String { get }
    var version: Int64 { get set }
    var updatedAt: Date { get set }
    /// Who owns it, for the owner rights of SPEC 2.1 (a task's creator); nil when nobody does.
    var owner: String? { get }
    /// `job` or `task`, for messages and details.
    static var entityName: String { get }
    static func find(_ id: UUID, lock: Bool, in tx: ServiceTransaction) async throws -> Self?
    /// Writes the changed entity (`before` is the row as read under its lock) and returns the events it did not
    /// write in the same statement, for the caller to append.
    func save(in tx: ServiceTransaction, from before: Self, events: [EventDraft]) async throws -> [EventDraft]
    /// Events of what the change causes (SPEC 2.6), written after the change's own.
    static func followUps(after before: Self, now entity: Self, in tx: ServiceTransaction) async throws -> [EventDraft]
}

extension VersionedEntity {
    /// The refusal for an id that does not exist, or that the actor cannot tell from one that does not.
    static func notFound(_ id: UUID) -> DocketError {
        let text = id.uuidString.lowercased()
        return DocketError(entityName == "job" ? .jobNotFound : .taskNotFound, "\(entityName) \(text) does not exist",
                           details: ["\(entityName)_id": .string(text)])
    }
}

/// The read and change discipline jobs and tasks share, written once.
///
/// A change checks the scope before anything is read (so a caller without it learns nothing), locks the row, treats
/// another tenant's entity as missing, checks tenant and ownership, refuses a stale `expected_version`, applies the
/// body, and — only when something changed or an event was drafted — bumps `version`, writes the row and its events
/// in the same transaction.
struct VersionedStore<Entity: VersionedEntity>: Sendable {
    let database: Database
    let clock: @Sendable () -> Date
    /// The leader's term when the store works for a sweep: every transaction is fenced by it.
    let term: LeaderTerm?

    /// Changes one entity in a transaction; `prepare` runs first in it (a task's graph lock is taken before its row's).
    func change(
        _ id: UUID, by actor: Principal, _ operation: ServiceOperation, expectedVersion: Int64? = nil,
        prepare: (@Sendable (ServiceTransaction) async throws -> Void)? = nil,
        _ body: @escaping @Sendable (inout Entity, ServiceTransaction) async throws -> [EventDraft]
    ) async throws -> Entity {
        if !operation.isOwnerOperation { try Authorizer.check(actor, operation) }
        let now = clock(), logger = database.logger
        let term = self.term
        return try await database.transaction(fencedBy: term) { connection in
            let tx = ServiceTransaction(connection: connection, logger: logger, actor: actor, now: now, term: term)
            try await prepare?(tx)
            var entity = try await Self.locked(id, by: actor, operation, tx)
            if let expectedVersion, expectedVersion != entity.version { throw Self.stale(entity, expected: expectedVersion) }
            let before = entity
            let events = try await body(&entity, tx)
            guard entity != before || !events.isEmpty else {
                try await tx.writeRuns()
                return entity
            }
            entity.version = before.version + 1
            entity.updatedAt = now
            var pending = try await entity.save(in: tx, from: before, events: events)
            pending += try await Entity.followUps(after: before, now: entity, in: tx)
            try await tx.events.append(pending)
            try await tx.writeRuns()
            return entity
        }
    }

    /// The refusal of a change whose `expected_version` is not the entity's.
    static func stale(_ entity: Entity, expected: Int64) -> DocketError {
        DocketError(.concurrencyError,
            "\(Entity.entityName) \(entity.idText) is at version \(entity.version), not the expected \(expected)",
            details: ["\(Entity.entityName)_id": .string(entity.idText), "version": .number(Double(entity.version)),
                      "expected_version": .number(Double(expected))])
    }

    /// The entity, locked in `tx`, if the actor may do `operation` to it; another tenant's is a missing one.
    static func locked(_ id: UUID, by actor: Principal, _ operation: ServiceOperation, _ tx: ServiceTransaction) async throws -> Entity {
        guard let entity = try await Entity.find(id, lock: true, in: tx), actor.reaches(tenant: entity.tenantId) else { throw Entity.notFound(id) }
        try Authorizer.check(actor, operation, tenant: entity.tenantId, owner: entity.owner)
        return entity
    }

    /// Runs `body` in one transaction (fenced by the store's term, if any).
    func transaction<T: Sendable>(by actor: Principal, _ body: @escaping @Sendable (ServiceTransaction) async throws -> T) async throws -> T {
        let now = clock(), logger = database.logger, term = self.term
        return try await database.transaction(fencedBy: term) { connection in
            let tx = ServiceTransaction(connection: connection, logger: logger, actor: actor, now: now, term: term)
            let result = try await body(tx)
            try await tx.writeRuns()
            return result
        }
    }

    /// Runs `body` for a tenant the actor names (or its own), once `operation` is allowed there: in a transaction
    /// (`write`), as one statement with no transaction around it (`oneStatement`: a write that is a single statement,
    /// in one round trip; a leader's fenced store still uses a transaction), or on a plain connection.
    func inTenant<T: Sendable>(
        _ requested: String?, by actor: Principal, _ operation: ServiceOperation, write: Bool, oneStatement: Bool = false,
        _ body: @escaping @Sendable (ServiceTransaction, String) async throws -> T
    ) async throws -> T {
        let tenant = try actor.tenant(for: requested)
        try Authorizer.check(actor, operation, tenant: tenant)
        let now = clock(), logger = database.logger, term = self.term
        let work: @Sendable (PostgresConnection) async throws -> T = { connection in
            try await body(ServiceTransaction(connection: connection, logger: logger, actor: actor, now: now, term: term), tenant)
        }
        guard write else { return try await database.read(work) }
        return oneStatement && term == nil ? try await database.statement(work) : try await database.transaction(fencedBy: term, work)
    }

    /// Reads one entity the actor may see.
    func read(_ id: UUID, by actor: Principal, _ operation: ServiceOperation) async throws -> Entity {
        try Authorizer.check(actor, operation)
        let logger = database.logger, now = clock()
        let entity = try await database.read { connection in
            try await Entity.find(id, lock: false, in: ServiceTransaction(connection: connection, logger: logger, actor: actor, now: now, term: nil))
        }
        guard let entity, actor.reaches(tenant: entity.tenantId) else { throw Entity.notFound(id) }
        try Authorizer.check(actor, operation, tenant: entity.tenantId)
        return entity
    }
}

extension VersionedStore where Entity == Job {
    /// `change` with no lock held across round trips, for changes whose body only reads (complete, fail, heartbeat,
    /// checkpoint): the row is read, the body runs, and the write is one statement conditioned on the row's version
    /// — its own transaction, no BEGIN or COMMIT; with `group`, shared with the other such writes in flight (group
    /// commit). When another write came first, it reads again (three tries), then takes the row lock as `change`
    /// does. A leader's fenced store always takes the lock.
    func changeUnlocked(
        _ id: UUID, by actor: Principal, _ operation: ServiceOperation, expectedVersion: Int64? = nil,
        group: StatementGroup<ConditionedChange, Bool>? = nil,
        _ body: @escaping @Sendable (inout Job, ServiceTransaction) async throws -> [EventDraft]
    ) async throws -> Job {
        guard term == nil else { return try await change(id, by: actor, operation, expectedVersion: expectedVersion, body) }
        if !operation.isOwnerOperation { try Authorizer.check(actor, operation) }
        let logger = database.logger
        for _ in 0..<3 {
            let now = clock()
            let attempt: UnlockedAttempt = try await database.statement { connection in
                let tx = ServiceTransaction(connection: connection, logger: logger, actor: actor, now: now, term: nil)
                guard let (read, gates) = try await tx.jobs.findWithGates(id, lock: false), actor.reaches(tenant: read.tenantId) else {
                    throw Job.notFound(id)
                }
                try Authorizer.check(actor, operation, tenant: read.tenantId, owner: read.owner)
                if let expectedVersion, expectedVersion != read.version { throw Self.stale(read, expected: expectedVersion) }
                tx.gates.record(gates, for: id)
                var job = read
                let events = try await body(&job, tx)
                guard job != read || !events.isEmpty else { return .done(job) }
                job.version = read.version + 1
                job.updatedAt = now
                let runs = tx.runWrites.take(job: id).map(\.write)
                if group != nil, let change = ConditionedChange(job, events: events, runs: runs) {
                    return .grouped(change)
                }
                return try await tx.jobs.updateIfUnchanged(job, from: read, events: events, runs: runs) ? .done(job) : .lost
            }
            switch attempt {
            case .done(let job): return job
            case .lost: continue
            case .grouped(let change):
                // Written after the read's connection went back to the pool, with the other writes in flight.
                if try await group?.submit(change) == true { return change.job }
            }
        }
        return try await change(id, by: actor, operation, expectedVersion: expectedVersion, body)
    }
}

/// What one try of `changeUnlocked` came to: written (or nothing to write), lost the race, or left for the group.
private enum UnlockedAttempt: Sendable {
    case done(Job)
    case lost
    case grouped(ConditionedChange)
}

extension ConditionedChange {
    /// The change as a group write takes it; nil when its run writes are more than the closing of its open run.
    init?(_ job: Job, events: [EventDraft], runs: [RunWrite]) {
        var closing: RunClosing?
        for run in runs {
            guard case .close(let closed) = run, closing == nil else { return nil }
            closing = closed
        }
        self.init(job: job, closing: closing, events: events)
    }
}

extension Job: VersionedEntity {
    var owner: String? { nil }
    static var entityName: String { "job" }
    static func find(_ id: UUID, lock: Bool, in tx: ServiceTransaction) async throws -> Job? {
        guard lock else { return try await tx.jobs.find(id) }
        guard let (job, gates) = try await tx.jobs.findWithGates(id, lock: true) else { return nil }
        tx.gates.record(gates, for: id)
        return job
    }
    func save(in tx: ServiceTransaction, from before: Job, events: [EventDraft]) async throws -> [EventDraft] {
        try await tx.write(self, from: before, events: events)
        return []
    }
    static func followUps(after before: Job, now job: Job, in tx: ServiceTransaction) async throws -> [EventDraft] { [] }
}

extension WorkTask: VersionedEntity {
    var owner: String? { ownerId }
    static var entityName: String { "task" }
    static func find(_ id: UUID, lock: Bool, in tx: ServiceTransaction) async throws -> WorkTask? { try await tx.tasks.find(id, lock: lock) }
    func save(in tx: ServiceTransaction, from before: WorkTask, events: [EventDraft]) async throws -> [EventDraft] {
        try await tx.tasks.update(self)
        return events
    }
    static func followUps(after before: WorkTask, now task: WorkTask, in tx: ServiceTransaction) async throws -> [EventDraft] {
        try await tx.taskFollowUps(after: before, now: task)
    }
}

/// The queries of one service transaction, with who acts and when.
struct ServiceTransaction: Sendable {
    let connection: PostgresConnection
    let logger: Logger
    let actor: Principal
    let now: Date
    /// The leader's term for a sweep's writes: stamped on its runs and events.
    let term: LeaderTerm?
    /// Run changes drafted for the jobs this transaction changes, written with each job's own write.
    let runWrites = RunWrites()
    /// The gates of the jobs this transaction locked, as read with their rows.
    let gates = GateHints()

    /// Opens a run with the job's own write, in the same statement; `refusal` is thrown when its slot (or attempt)
    /// has a run already.
    func openRun(_ run: JobRun, refusal: DocketError) {
        runWrites.add(.open(run), refusal: refusal)
    }

    /// Closes the job's open run with the job's own write.
    func closeRun(_ closing: RunClosing) {
        runWrites.add(.close(closing))
    }

    /// Records the claiming worker on the job's open run with the job's own write.
    func claimRun(job: UUID, worker: String?) {
        runWrites.add(.claim(job: job, worker: worker))
    }

    /// Writes a changed job with its events and the run changes drafted for it, in one statement.
    func write(_ job: Job, from before: Job, events: [EventDraft]) async throws {
        let drafted = runWrites.take(job: job.id)
        do {
            try await jobs.update(job, from: before, events: events, epoch: term?.epoch, runs: drafted.map(\.write))
        } catch where RunWrite.slotTaken(error) {
            throw drafted.compactMap(\.refusal).first ?? DocketError(.invalidTransition, "job \(job.idText): this run has already run")
        }
    }

    /// Writes the run changes no job write took with it (there are none when every change came with its job's).
    func writeRuns() async throws {
        for drafted in runWrites.takeAll() {
            do {
                try await runs.write(drafted.write)
            } catch where RunWrite.slotTaken(error) {
                throw drafted.refusal ?? DocketError(.invalidTransition, "this run has already run")
            }
        }
    }

    var jobs: JobQueries { JobQueries(connection, logger: logger) }
    var runs: JobRunQueries { JobRunQueries(connection, logger: logger, epoch: term?.epoch) }
    var budgets: BudgetQueries { BudgetQueries(connection, logger: logger) }
    var links: JobTaskQueries { JobTaskQueries(connection, logger: logger) }
    var queues: QueueQueries { QueueQueries(connection, logger: logger) }
    var tasks: TaskQueries { TaskQueries(connection, logger: logger) }
    var dependencies: TaskDependencyQueries { TaskDependencyQueries(connection, logger: logger) }
    var events: EventQueries { EventQueries(connection, logger: logger, epoch: term?.epoch) }
    var requests: JobRequestQueries { JobRequestQueries(connection, logger: logger) }
}

typealias JobTransaction = ServiceTransaction
typealias TaskTransaction = ServiceTransaction

/// The run changes a transaction has drafted and not yet written, each with the refusal its failure means.
final class RunWrites: Sendable {
    struct Drafted: Sendable {
        let write: RunWrite
        let refusal: DocketError?
    }

    private let drafted = Mutex<[Drafted]>([])

    func add(_ write: RunWrite, refusal: DocketError? = nil) {
        drafted.withLock { $0.append(Drafted(write: write, refusal: refusal)) }
    }

    /// The changes drafted for `job`, in order, no longer pending.
    func take(job: UUID) -> [Drafted] {
        drafted.withLock { drafted in
            let taken = drafted.filter { $0.write.job == job }
            drafted.removeAll { $0.write.job == job }
            return taken
        }
    }

    func takeAll() -> [Drafted] {
        drafted.withLock { drafted in defer { drafted = [] }; return drafted }
    }
}

/// The gates (`JobGates`) of the jobs a transaction has locked; a job not locked here has every gate checked.
final class GateHints: Sendable {
    private let known = Mutex<[UUID: JobGates]>([:])

    func record(_ gates: JobGates, for job: UUID) {
        known.withLock { $0[job] = gates }
    }

    subscript(job: UUID) -> JobGates {
        known.withLock { $0[job] } ?? .unknown
    }
}
