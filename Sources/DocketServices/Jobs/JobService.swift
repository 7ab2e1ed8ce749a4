import DocketCore
import DocketPostgres
import Foundation
import Logging
import PostgresNIO

/// Every job operation of SPEC 2.2–2.3 over PostgreSQL, for the protocol, the CLI and the sweeps.
///
/// Each write locks its row (`FOR UPDATE`), checks permission, tenant, input and the status machine, bumps `version`
/// (refusing a stale `expected_version`), and writes the change, its runs and its events in one transaction. Nothing
/// here sends NOTIFY: the bus wakes listeners after commit.
public struct JobService: Sendable {
    public struct Configuration: Sendable {
        /// How long a graceful cancel waits for the worker before the timeout sweep cancels hard.
        public var cancelGraceSeconds: Double = 30
        /// Lease of a claim when the caller names none, and the most a caller may ask for.
        public var defaultLeaseSeconds: Int = 60
        public var maxLeaseSeconds: Int = 3600
        /// Recorded on the runs this instance opens.
        public var instanceId: String?

        public init() {}
    }

    let database: Database
    let configuration: Configuration
    let clock: @Sendable () -> Date
    var logger: Logger { database.logger }

    public init(database: Database, configuration: Configuration = .init(), clock: @escaping @Sendable () -> Date = { Date().storedPrecision }) {
        self.database = database
        self.configuration = configuration
        self.clock = clock
    }

    /// Changes one job in a transaction: scope, lock, tenant, version, `body`, write, events.
    ///
    /// `body` mutates the job and returns the events to record; returning without change still bumps nothing when it
    /// throws. The scope is checked before the row is read, so a caller without it learns nothing about the job.
    func change(
        _ id: UUID, by actor: Principal, _ operation: ServiceOperation, expectedVersion: Int64? = nil,
        _ body: @escaping @Sendable (inout Job, JobTransaction) async throws -> [EventDraft]
    ) async throws -> Job {
        try Authorizer.check(actor, operation)
        let now = clock()
        return try await database.transaction { connection in
            let tx = JobTransaction(connection: connection, logger: logger, actor: actor, now: now)
            // Another tenant's job is, to a confined actor, indistinguishable from a missing one.
            guard var job = try await tx.jobs.find(id, lock: true), actor.reaches(tenant: job.tenantId) else { throw Self.notFound(id) }
            try Authorizer.check(actor, operation, tenant: job.tenantId)
            if let expectedVersion, expectedVersion != job.version {
                throw DocketError(.concurrencyError,
                    "job \(job.idText) is at version \(job.version), not the expected \(expectedVersion)",
                    details: ["job_id": .string(job.idText), "version": .number(Double(job.version)),
                              "expected_version": .number(Double(expectedVersion))])
            }
            let before = job
            let events = try await body(&job, tx)
            guard job != before || !events.isEmpty else { return job }
            job.version = before.version + 1
            job.updatedAt = now
            try await tx.jobs.update(job)
            try await tx.events.append(events)
            return job
        }
    }

    /// Reads one job the actor may see.
    func read(_ id: UUID, by actor: Principal, _ operation: ServiceOperation) async throws -> Job {
        try Authorizer.check(actor, operation)
        let job = try await database.read { connection in
            try await JobQueries(connection, logger: logger).find(id)
        }
        guard let job, actor.reaches(tenant: job.tenantId) else { throw Self.notFound(id) }
        try Authorizer.check(actor, operation, tenant: job.tenantId)
        return job
    }

    static func notFound(_ id: UUID) -> DocketError {
        DocketError(.jobNotFound, "job \(id.uuidString.lowercased()) does not exist",
                    details: ["job_id": .string(id.uuidString.lowercased())])
    }
}

/// The queries of one job transaction, with who acts and when.
struct JobTransaction: Sendable {
    let connection: PostgresConnection
    let logger: Logger
    let actor: Principal
    let now: Date

    var jobs: JobQueries { JobQueries(connection, logger: logger) }
    var runs: JobRunQueries { JobRunQueries(connection, logger: logger) }
    var events: EventQueries { EventQueries(connection, logger: logger) }
    var budgets: BudgetQueries { BudgetQueries(connection, logger: logger) }
    var links: JobTaskQueries { JobTaskQueries(connection, logger: logger) }
}
