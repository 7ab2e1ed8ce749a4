import DocketCore
import Foundation
import Logging
import PostgresNIO

/// Statements on `docket.job_runs`.
public struct JobRunQueries: Sendable {
    let connection: PostgresConnection
    let logger: Logger
    /// The leader epoch stamped on the runs opened (nil for what API requests open).
    let epoch: Int64?

    public init(_ connection: PostgresConnection, logger: Logger, epoch: Int64? = nil) {
        self.connection = connection
        self.logger = logger
        self.epoch = epoch
    }

    /// Opens a run; returns false when the `(job, slot, attempt)` already has one (the slot fired before).
    @discardableResult
    public func open(_ run: JobRun) async throws -> Bool {
        let rows = try await connection.query("""
            INSERT INTO docket.job_runs (id, job_id, tenant_id, run_number, attempt, scheduled_for, started_at, status,
                instance_id, claimed_by, leader_epoch)
            VALUES (\(run.id), \(run.jobId), \(run.tenantId), \(Int32(run.runNumber)), \(Int32(run.attempt)),
                \(run.scheduledFor), \(run.startedAt), 'running', \(run.instanceId), \(run.claimedBy),
                \(run.leaderEpoch ?? epoch))
            ON CONFLICT (job_id, scheduled_for, attempt) DO NOTHING
            RETURNING id
            """, logger: logger).collect()
        return !rows.isEmpty
    }

    /// Closes the job's open run with its outcome, as a statement of its own (`JobQueries.update` writes it in the
    /// job's own statement when given one).
    public func close(_ closing: RunClosing) async throws {
        var statement = ChangedColumns()
        try closing.write(into: &statement)
        try await connection.query(PostgresQuery(unsafeSQL: statement.companions[0], binds: statement.binds), logger: logger)
    }

    /// Records who holds the open run (claim).
    public func setClaimedBy(job: UUID, worker: String?) async throws {
        try await connection.query(
            "UPDATE docket.job_runs SET claimed_by = \(worker) WHERE job_id = \(job) AND status = 'running'",
            logger: logger)
    }

    /// Every run of a job, oldest first.
    public func history(job: UUID, limit: Int) async throws -> [JobRun] {
        let rows = try await connection.query("""
            SELECT id, job_id, tenant_id, run_number, attempt, scheduled_for, started_at, finished_at, status,
                error_code, error_message, actual_cost, result_summary, instance_id, claimed_by, leader_epoch
            FROM docket.job_runs WHERE job_id = \(job)
            ORDER BY run_number, attempt LIMIT \(Int32(limit))
            """, logger: logger).collect()
        return try rows.map { row in
            var r = RowReader(row)
            var run = JobRun(id: try r.next(), jobId: try r.next(), tenantId: try r.next(), runNumber: try r.integer(),
                             attempt: try r.integer(), scheduledFor: try r.next(), startedAt: try r.next(), status: .running)
            run.finishedAt = try r.next()
            run.status = try r.value(JobRun.Status.self)
            run.errorCode = try r.next()
            run.errorMessage = try r.next()
            run.actualCost = try r.money()
            run.resultSummary = try r.next()
            run.instanceId = try r.next()
            run.claimedBy = try r.next()
            run.leaderEpoch = try r.next()
            return run
        }
    }
}

/// How a job's open run ends: written with the job's change, in the same statement.
public struct RunClosing: Sendable, Hashable {
    public var job: UUID
    public var status: JobRun.Status
    public var at: Date
    public var errorCode: String?
    public var errorMessage: String?
    public var actualCost: Money?
    public var resultSummary: String?

    public init(job: UUID, status: JobRun.Status, at: Date, errorCode: String? = nil, errorMessage: String? = nil,
                actualCost: Money? = nil, resultSummary: String? = nil) {
        self.job = job
        self.status = status
        self.at = at
        self.errorCode = errorCode
        self.errorMessage = errorMessage
        self.actualCost = actualCost
        self.resultSummary = resultSummary
    }

    /// Adds the run's `UPDATE` to `statement` as a companion of the job's.
    func write(into statement: inout ChangedColumns) throws {
        statement.alongside("""
            UPDATE docket.job_runs SET status = \(try statement.parameter(status.rawValue)), \
            finished_at = \(try statement.parameter(at)), error_code = \(try statement.parameter(errorCode)), \
            error_message = \(try statement.parameter(errorMessage)), \
            actual_cost = \(try statement.parameter(actualCost?.description, cast: "::numeric")), \
            result_summary = \(try statement.parameter(resultSummary)) \
            WHERE job_id = \(try statement.parameter(job)) AND status = 'running'
            """)
    }
}
