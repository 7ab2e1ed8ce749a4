import DocketCore
import Foundation
import Logging
import PostgresNIO

/// Statements on `docket.instances`.
public struct InstanceQueries: Sendable {
    let connection: PostgresConnection
    let logger: Logger

    public init(_ connection: PostgresConnection, logger: Logger) {
        self.connection = connection
        self.logger = logger
    }

    /// Registers (or re-registers) an instance as active.
    public func register(id: String, address: String?, httpAddress: String?, version: String, hostname: String?, pid: Int32) async throws {
        try await connection.query("""
            INSERT INTO docket.instances (id, address, http_address, version, hostname, pid, status, started_at, heartbeat_at)
            VALUES (\(id), \(address), \(httpAddress), \(version), \(hostname), \(pid), 'active', now(), now())
            ON CONFLICT (id) DO UPDATE SET status = 'active', heartbeat_at = now(), address = EXCLUDED.address,
                http_address = EXCLUDED.http_address, stopped_at = NULL
            """, logger: logger)
    }

    /// Records that the instance is alive; false when it had been marked gone.
    public func heartbeat(id: String) async throws -> Bool {
        !(try await connection.query("""
            UPDATE docket.instances SET heartbeat_at = now() WHERE id = \(id) AND status = 'active' RETURNING id
            """, logger: logger).collect().isEmpty)
    }

    public func markStopped(id: String) async throws {
        try await connection.query(
            "UPDATE docket.instances SET status = 'stopped', stopped_at = now() WHERE id = \(id)", logger: logger)
    }

    /// Marks active instances silent for longer than `ttl` seconds as gone; returns their ids.
    public func markSilentGone(ttl: Double) async throws -> [String] {
        try await connection.query("""
            UPDATE docket.instances SET status = 'gone', stopped_at = now()
            WHERE status = 'active' AND heartbeat_at < now() - make_interval(secs => \(ttl))
            RETURNING id
            """, logger: logger).collect().map { try $0.decode(String.self) }
    }

    /// Every instance, newest first.
    public func instances() async throws -> [ClusterStatus.Instance] {
        try await connection.query("""
            SELECT id, address, http_address, version, hostname, pid, status, started_at, heartbeat_at
            FROM docket.instances ORDER BY started_at DESC LIMIT 1000
            """, logger: logger).collect().map { row in
            let (id, address, http, version, host, pid, status, started, beat) =
                try row.decode((String, String?, String?, String, String?, Int32?, String, Date, Date).self)
            return ClusterStatus.Instance(id: id, address: address, httpAddress: http, version: version, hostname: host, pid: pid,
                                          status: status, startedAt: started, heartbeatAt: beat)
        }
    }
}
