import DocketCore
import Foundation
import Logging
import PostgresNIO

/// What each sweep finds due, through its partial index, a batch at a time (SPEC 4.3).
public struct SweepQueries: Sendable {
    let connection: PostgresConnection
    let logger: Logger

    public init(_ connection: PostgresConnection, logger: Logger) {
        self.connection = connection
        self.logger = logger
    }

    public enum Due: String, Sendable, CaseIterable {
        /// Running jobs past `timeout_seconds` (`jobs_deadline_idx`).
        case jobDeadline
        /// Running jobs whose worker lease ran out (`jobs_lease_idx`).
        case jobLease
        /// Graceful cancels past their grace (`jobs_cancel_grace_idx`).
        case cancelGrace
        /// Failed jobs whose retry time has come (`jobs_retry_idx`).
        case retry
        /// Scheduled jobs whose time has come that the recurrence sweep starts (`jobs_due_idx`, `sweepStarts`).
        case scheduled
        /// In-progress tasks past `timeout_seconds` (`tasks_deadline_idx`).
        case taskDeadline
    }

    /// The scheduled jobs the recurrence sweep starts when due: those without a kind, and recurring ones. A one-time job
    /// with a kind waits for a worker's claim. Written as `jobs_due_idx`'s predicate is, so that the planner uses it.
    public static let sweepStarts = "status = 'scheduled' AND (kind IS NULL OR schedule->>'kind' <> 'once')"

    /// Up to `limit` ids of rows due at `now`, earliest first.
    public func due(_ kind: Due, now: Date, limit: Int) async throws -> [UUID] {
        let query: PostgresQuery = switch kind {
        case .jobDeadline:
            "SELECT id FROM docket.jobs WHERE status = 'running' AND deadline_at IS NOT NULL AND deadline_at <= \(now) ORDER BY deadline_at LIMIT \(Int32(limit))"
        case .jobLease:
            "SELECT id FROM docket.jobs WHERE status = 'running' AND lease_expires_at IS NOT NULL AND lease_expires_at <= \(now) ORDER BY lease_expires_at LIMIT \(Int32(limit))"
        case .cancelGrace:
            "SELECT id FROM docket.jobs WHERE status = 'running' AND cancel_deadline_at IS NOT NULL AND cancel_deadline_at <= \(now) ORDER BY cancel_deadline_at LIMIT \(Int32(limit))"
        case .retry:
            "SELECT id FROM docket.jobs WHERE status = 'failed' AND retry_at IS NOT NULL AND retry_at <= \(now) ORDER BY retry_at LIMIT \(Int32(limit))"
        case .scheduled:
            "SELECT id FROM docket.jobs WHERE \(unescaped: Self.sweepStarts) AND next_run_at <= \(now) ORDER BY next_run_at LIMIT \(Int32(limit))"
        case .taskDeadline:
            "SELECT id FROM docket.tasks WHERE status = 'in_progress' AND deadline_at IS NOT NULL AND deadline_at <= \(now) ORDER BY deadline_at LIMIT \(Int32(limit))"
        }
        return try await connection.query(query, logger: logger).collect().map { try $0.decode(UUID.self) }
    }

    /// When the next scheduled job is due, if any (the recurrence sweep sleeps until then).
    public func nextScheduled() async throws -> Date? {
        try await connection.query(
            "SELECT min(next_run_at) FROM docket.jobs WHERE \(unescaped: Self.sweepStarts)", logger: logger
        ).collect().first?.decode(Date?.self) ?? nil
    }

    /// Retention: deletes up to `limit` events that occurred before `cutoff`, in no set order (`events_retention_idx`
    /// is a BRIN index: its scan yields the old block ranges, and a sort would read every old event per batch); how many.
    public func pruneEvents(before cutoff: Date, limit: Int) async throws -> Int {
        let rows = try await connection.query("""
            DELETE FROM docket.events WHERE seq IN (
                SELECT seq FROM docket.events WHERE occurred_at < \(cutoff) LIMIT \(Int32(limit)))
            RETURNING seq
            """, logger: logger).collect()
        return rows.count
    }

    /// Retention: deletes up to `limit` finished runs that finished before `cutoff` (`job_runs_retention_idx`); how many.
    public func pruneRuns(before cutoff: Date, limit: Int) async throws -> Int {
        let rows = try await connection.query("""
            DELETE FROM docket.job_runs WHERE id IN (
                SELECT id FROM docket.job_runs WHERE finished_at < \(cutoff) ORDER BY finished_at LIMIT \(Int32(limit)))
            RETURNING id
            """, logger: logger).collect()
        return rows.count
    }

    /// Retention: deletes up to `limit` jobs that ended as `status` before `cutoff` — a failed one only with no retry
    /// left, none whose callback still waits — with their runs and links (`jobs_retention_idx`); how many.
    public func pruneJobs(_ status: JobStatus, before cutoff: Date, limit: Int) async throws -> Int {
        let rows = try await connection.query("""
            DELETE FROM docket.jobs WHERE id IN (
                SELECT id FROM docket.jobs
                WHERE status = \(status.rawValue) AND status IN ('succeeded', 'cancelled', 'failed')
                  AND retry_at IS NULL AND callback_due_at IS NULL AND finished_at < \(cutoff)
                ORDER BY finished_at LIMIT \(Int32(limit)) FOR UPDATE SKIP LOCKED)
            RETURNING id
            """, logger: logger).collect()
        return rows.count
    }
}

extension SweepQueries {
    /// `due(_:now:limit:)` on a pooled connection.
    public static func due(_ kind: Due, now: Date, limit: Int, in database: Database) async throws -> [UUID] {
        try await database.read { try await SweepQueries($0, logger: database.logger).due(kind, now: now, limit: limit) }
    }

    /// `nextScheduled()` on a pooled connection.
    public static func nextScheduled(in database: Database) async throws -> Date? {
        try await database.read { try await SweepQueries($0, logger: database.logger).nextScheduled() }
    }
}
