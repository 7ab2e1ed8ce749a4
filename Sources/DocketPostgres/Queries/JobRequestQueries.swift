import DocketCore
import Foundation
import Logging
import PostgresNIO

/// `docket.job_requests`: the jobs applications asked for with `docket.enqueue()` (migration 0009), turned into jobs
/// by the leader's intake.
public struct JobRequestQueries: Sendable {
    let connection: PostgresConnection
    let logger: Logger

    public init(_ connection: PostgresConnection, logger: Logger) {
        self.connection = connection
        self.logger = logger
    }

    /// A committed request waiting to become a job.
    public struct Request: Sendable, Hashable {
        public var id: Int64
        public var jobId: UUID
        public var tenantId: String
        public var arguments: JSONValue
        public var requestedBy: String
    }

    /// Locks up to `limit` pending requests, oldest first, skipping any another transaction holds.
    public func lockPending(limit: Int) async throws -> [Request] {
        let rows = try await connection.query("""
            SELECT id, job_id, tenant_id, arguments, requested_by FROM docket.job_requests
             WHERE status = 'pending' ORDER BY id LIMIT \(Int32(limit)) FOR UPDATE SKIP LOCKED
            """, logger: logger)
        var requests: [Request] = []
        for try await (id, jobId, tenant, arguments, by) in rows.decode((Int64, UUID, String, JSONValue, String).self) {
            requests.append(Request(id: id, jobId: jobId, tenantId: tenant, arguments: arguments, requestedBy: by))
        }
        return requests
    }

    /// How one request ended.
    public enum Outcome: Sendable {
        case created(job: UUID)
        case refused(DocketError)
    }

    /// Records how each request ended, in one statement.
    public func finish(_ outcomes: [(request: Int64, outcome: Outcome)], now: Date) async throws {
        guard !outcomes.isEmpty else { return }
        let rows: [JSONValue] = outcomes.map { entry in
            switch entry.outcome {
            case .created(let job):
                .object(["id": .number(Double(entry.request)), "status": "created", "job": .string(job.uuidString.lowercased())])
            case .refused(let error):
                .object(["id": .number(Double(entry.request)), "status": "refused", "code": .string(error.code.rawValue),
                         "message": .string(String(error.message.prefix(2_000)))])
            }
        }
        try await connection.query("""
            UPDATE docket.job_requests r
               SET status = o.status, created_job_id = o.job, error_code = o.code, error_message = o.message, processed_at = \(now)
              FROM jsonb_to_recordset(\(JSONValue.array(rows))::jsonb) AS o(id bigint, status text, job uuid, code text, message text)
             WHERE r.id = o.id
            """, logger: logger)
    }

    /// Deletes up to `limit` requests processed before `before`; returns how many.
    public func prune(processedBefore before: Date, limit: Int) async throws -> Int {
        let rows = try await connection.query("""
            WITH gone AS (
                DELETE FROM docket.job_requests WHERE id IN (
                    SELECT id FROM docket.job_requests WHERE status <> 'pending' AND processed_at < \(before)
                     ORDER BY processed_at LIMIT \(Int32(limit)))
                RETURNING 1
            )
            SELECT count(*)::int FROM gone
            """, logger: logger)
        for try await count in rows.decode(Int32.self) { return Int(count) }
        return 0
    }
}
