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

    /// Writes a run change as a statement of its own (`JobQueries.update` writes it in the job's own statement when
    /// given it). An opening whose slot already has its run fails with `RunWrite.slotTaken`.
    public func write(_ change: RunWrite) async throws {
        var statement = ChangedColumns()
        try change.write(into: &statement, epoch: epoch)
        try await connection.query(PostgresQuery(unsafeSQL: statement.companions[0], binds: statement.binds), logger: logger)
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

/// A change of a job's runs that rides in the job's own write.
public enum RunWrite: Sendable {
    /// A new occurrence's or attempt's run; the statement fails when `(job, slot, attempt)` has one already
    /// (`slotTaken`), which the service turns into its refusal.
    case open(JobRun)
    /// The open run ends.
    case close(RunClosing)
    /// The open run records the worker that claimed it.
    case claim(job: UUID, worker: String?)

    public var job: UUID {
        switch self {
        case .open(let run): run.jobId
        case .close(let closing): closing.job
        case .claim(let job, _): job
        }
    }

    /// Whether `error` is an opening that found its slot's run already there.
    public static func slotTaken(_ error: any Error) -> Bool {
        Database.violatedConstraint(error, state: "23505") == "job_runs_slot_key"
    }

    /// Adds the run's statement to `statement` as a companion of the job's; `epoch` stamps an opened run that has
    /// none of its own. `guarded`: only if the job's conditional update changed its row (an opening cannot be).
    func write(into statement: inout ChangedColumns, epoch: Int64?, guarded: Bool = false) throws {
        let guardSQL = guarded ? " AND EXISTS (SELECT 1 FROM changed)" : ""
        switch self {
        case .open(let run):
            guard !guarded else { throw DocketError(.internal, "a run is opened only under the job's lock") }
            statement.alongside("""
                INSERT INTO docket.job_runs (id, job_id, tenant_id, run_number, attempt, scheduled_for, started_at, status, \
                instance_id, claimed_by, leader_epoch) VALUES (\(try statement.parameter(run.id)), \
                \(try statement.parameter(run.jobId)), \(try statement.parameter(run.tenantId)), \
                \(try statement.parameter(Int32(run.runNumber))), \(try statement.parameter(Int32(run.attempt))), \
                \(try statement.parameter(run.scheduledFor)), \(try statement.parameter(run.startedAt)), 'running', \
                \(try statement.parameter(run.instanceId)), \(try statement.parameter(run.claimedBy)), \
                \(try statement.parameter(run.leaderEpoch ?? epoch)))
                """)
        case .close(let closing):
            try closing.write(into: &statement, guarded: guardSQL)
        case .claim(let job, let worker):
            statement.alongside("""
                UPDATE docket.job_runs SET claimed_by = \(try statement.parameter(worker)) \
                WHERE job_id = \(try statement.parameter(job)) AND status = 'running'\(guardSQL)
                """)
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

    /// The closing as a JSON record (`jsonb_to_recordset`), for a batch that closes many runs in one statement.
    var record: JSONValue {
        .object([
            "job_id": .string(job.uuidString), "status": .string(status.rawValue), "finished_at": .string(Timestamp.format(at)),
            "error_code": errorCode.map(JSONValue.string) ?? .null, "error_message": errorMessage.map(JSONValue.string) ?? .null,
            "actual_cost": actualCost.map { .string($0.description) } ?? .null,
            "result_summary": resultSummary.map(JSONValue.string) ?? .null,
        ])
    }

    /// Adds the run's `UPDATE` to `statement` as a companion of the job's (`guarded`: its extra condition).
    func write(into statement: inout ChangedColumns, guarded: String = "") throws {
        statement.alongside("""
            UPDATE docket.job_runs SET status = \(try statement.parameter(status.rawValue)), \
            finished_at = \(try statement.parameter(at)), error_code = \(try statement.parameter(errorCode)), \
            error_message = \(try statement.parameter(errorMessage)), \
            actual_cost = \(try statement.parameter(actualCost?.description, cast: "::numeric")), \
            result_summary = \(try statement.parameter(resultSummary)) \
            WHERE job_id = \(try statement.parameter(job)) AND status = 'running'\(guarded)
            """)
    }
}

extension JobRun {
    /// The opening of this run as a JSON record (`jsonb_to_recordset`), for a batch that opens many in one statement.
    var openingRecord: JSONValue {
        .object([
            "id": .string(id.uuidString), "job_id": .string(jobId.uuidString), "tenant_id": .string(tenantId),
            "run_number": .number(Double(runNumber)), "attempt": .number(Double(attempt)),
            "scheduled_for": .string(Timestamp.format(scheduledFor)), "started_at": .string(Timestamp.format(startedAt)),
            "instance_id": instanceId.map(JSONValue.string) ?? .null, "claimed_by": claimedBy.map(JSONValue.string) ?? .null,
            "leader_epoch": leaderEpoch.map { .number(Double($0)) } ?? .null,
        ])
    }
}
