import DocketCore
import Foundation
import Logging
import PostgresNIO

/// Statements of the callback sweep: the delivery state in `jobs.callback` / `jobs.callback_due_at`, and the
/// per-tenant signing secrets. They never touch a job's `version` or `updated_at`: a delivery is not a change to the job.
public struct CallbackQueries: Sendable {
    let connection: PostgresConnection
    let logger: Logger

    public init(_ connection: PostgresConnection, logger: Logger) {
        self.connection = connection
        self.logger = logger
    }

    public struct Due: Sendable {
        public var jobId: UUID
        public var tenantId: String
        public var url: String
        public var delivery: CallbackDelivery?
    }

    /// Callbacks due now, oldest first, locked (SKIP LOCKED) for the caller's transaction.
    public func due(now: Date, limit: Int) async throws -> [Due] {
        let rows = try await connection.query("""
            SELECT id, tenant_id, callback_url, callback FROM docket.jobs
            WHERE callback_due_at <= \(now) AND callback_url IS NOT NULL
            ORDER BY callback_due_at LIMIT \(Int32(limit)) FOR UPDATE SKIP LOCKED
            """, logger: logger)
        var due: [Due] = []
        for try await (id, tenant, url, callback) in rows.decode((UUID, String, String, JSONValue?).self) {
            due.append(Due(jobId: id, tenantId: tenant, url: url, delivery: CallbackDelivery(json: callback)))
        }
        return due
    }

    /// Stores a delivery's state and when to look at it next (nil: never), if the job still has that delivery.
    @discardableResult
    public func save(job: UUID, _ delivery: CallbackDelivery, dueAt: Date?) async throws -> Bool {
        let rows = try await connection.query("""
            UPDATE docket.jobs SET callback = \(delivery.json), callback_due_at = \(dueAt)
            WHERE id = \(job) AND callback ->> 'delivery_id' = \(delivery.deliveryId.uuidString.lowercased())
            RETURNING id
            """, logger: logger).collect()
        return !rows.isEmpty
    }

    /// Drops a due mark that has no delivery to go with it (a callback_url added after the job ended).
    public func clear(job: UUID) async throws {
        try await connection.query("UPDATE docket.jobs SET callback_due_at = NULL WHERE id = \(job)", logger: logger)
    }

    /// The next time a callback falls due, if any.
    public func nextDue() async throws -> Date? {
        let rows = try await connection.query("SELECT min(callback_due_at) FROM docket.jobs WHERE callback_due_at IS NOT NULL",
                                              logger: logger).collect()
        return try rows.first?.decode(Date?.self)
    }

    /// The tenant's signing secret, made (from `candidate`) the first time it is asked for.
    public func secret(tenant: String, candidate: [UInt8]) async throws -> [UInt8] {
        if let existing = try await storedSecret(tenant) { return existing }
        try await connection.query("""
            INSERT INTO docket.callback_secrets (tenant_id, secret) VALUES (\(tenant), \(ByteBuffer(bytes: candidate)))
            ON CONFLICT (tenant_id) DO NOTHING
            """, logger: logger)
        guard let secret = try await storedSecret(tenant) else {
            throw DocketError(.internal, "no callback secret for tenant \(tenant)")
        }
        return secret
    }

    private func storedSecret(_ tenant: String) async throws -> [UInt8]? {
        let rows = try await connection.query(
            "SELECT secret FROM docket.callback_secrets WHERE tenant_id = \(tenant)", logger: logger).collect()
        return try rows.first.map { Array(try $0.decode(ByteBuffer.self).readableBytesView) }
    }
}
