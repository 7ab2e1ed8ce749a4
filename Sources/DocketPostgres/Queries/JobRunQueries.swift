import DocketCore
import Foundation
import Logging
import PostgresNIO

/// Statements on `docket.job_runs`.
public struct JobRunQueries: Sendable {
    let connection: PostgresConnection
    let logger: Logger

    public init(_ connection: PostgresConnection, logger: Logger) {
        self.connection = connection
        self.logger = logger
    }

    /// Opens a run; returns false when the `(job, slot, attempt)` already has one (the slot fired before).
    @discardableResult
    public func open(_ run: JobRun) async throws -> Bool {
        let rows = try await connection.query("""
            INSERT INTO docket.job_runs (id, job_id, tenant_id, run_number, attempt, scheduled_for, started_at, status,
                instance_id, claimed_by, leader_epoch)
            VALUES (\(run.id), \(run.jobId), \(run.tenantId), \(Int32(run.runNumber)), \(Int32(run.attempt)),
                \(run.scheduledFor), \(run.startedAt), 'running', \(run.instanceId), \(run.claimedBy),
                \(run.leaderEpoch ?? Database.leaderEpoch))
            ON CONFLICT (job_id, scheduled_for, attempt) DO NOTHING
            RETURNING id
            """, logger: logger).collect()
        return !rows.isEmpty
    }

    /// Closes the job's open run with its outcome.
    public func close(
        job: UUID, status: JobRun.Status, at: Date, errorCode: String? = nil, errorMessage: String? = nil,
        actualCost: Money? = nil, resultSummary: String? = nil
    ) async throws {
        try await connection.query("""
            UPDATE docket.job_runs SET status = \(status.rawValue), finished_at = \(at), error_code = \(errorCode),
                error_message = \(errorMessage), actual_cost = \(actualCost?.description)::numeric,
                result_summary = \(resultSummary)
            WHERE job_id = \(job) AND status = 'running'
            """, logger: logger)
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
            let r = row.makeRandomAccess()
            var run = JobRun(
                id: try r.value("id"), jobId: try r.value("job_id"), tenantId: try r.value("tenant_id"),
                runNumber: Int(try r.value("run_number", as: Int32.self)), attempt: Int(try r.value("attempt", as: Int32.self)),
                scheduledFor: try r.value("scheduled_for"), startedAt: try r.value("started_at"),
                status: JobRun.Status(rawValue: try r.value("status")) ?? .failed)
            run.finishedAt = try r.value("finished_at")
            run.errorCode = try r.value("error_code")
            run.errorMessage = try r.value("error_message")
            run.actualCost = try r.money("actual_cost")
            run.resultSummary = try r.value("result_summary")
            run.instanceId = try r.value("instance_id")
            run.claimedBy = try r.value("claimed_by")
            run.leaderEpoch = try r.value("leader_epoch")
            return run
        }
    }
}
