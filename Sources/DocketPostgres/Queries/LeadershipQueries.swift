import DocketCore
import Foundation
import Logging
import PostgresNIO

/// Statements on `docket.leadership` (and the advisory lock behind it).
public struct LeadershipQueries: Sendable {
    let connection: PostgresConnection
    let logger: Logger

    public init(_ connection: PostgresConnection, logger: Logger) {
        self.connection = connection
        self.logger = logger
    }

    public func leadership(name: String) async throws -> ClusterStatus.Leadership? {
        let rows = try await connection.query("""
            SELECT instance_id, epoch, backend_pid, elected_at, heartbeat_at,
                   extract(epoch FROM now() - heartbeat_at)::float8
            FROM docket.leadership WHERE name = \(name)
            """, logger: logger).collect()
        guard let row = rows.first else { return nil }
        let (instance, epoch, pid, elected, beat, age) = try row.decode((String?, Int64, Int32?, Date?, Date?, Double?).self)
        return ClusterStatus.Leadership(instanceId: instance, epoch: epoch, backendPid: pid, electedAt: elected, heartbeatAt: beat, heartbeatAge: age)
    }

    /// Takes the term: bumps the epoch for `instance` on this (the lock) connection; returns the new epoch.
    public func claimTerm(name: String, instance: String) async throws -> Int64 {
        let rows = try await connection.query("""
            INSERT INTO docket.leadership (name, instance_id, epoch, backend_pid, elected_at, heartbeat_at)
            VALUES (\(name), \(instance), 1, pg_backend_pid(), now(), now())
            ON CONFLICT (name) DO UPDATE SET instance_id = EXCLUDED.instance_id, epoch = docket.leadership.epoch + 1,
                backend_pid = EXCLUDED.backend_pid, elected_at = now(), heartbeat_at = now()
            RETURNING epoch
            """, logger: logger).collect()
        guard let epoch = try rows.first?.decode(Int64.self) else { throw DocketError(.internal, "leadership row missing") }
        return epoch
    }

    /// Renews the term's heartbeat; false when the term is no longer ours.
    public func renewTerm(name: String, instance: String, epoch: Int64) async throws -> Bool {
        !(try await connection.query("""
            UPDATE docket.leadership SET heartbeat_at = now()
            WHERE name = \(name) AND instance_id = \(instance) AND epoch = \(epoch) RETURNING epoch
            """, logger: logger).collect().isEmpty)
    }

    /// Ends the term on a graceful hand-over, so followers need not wait for the heartbeat to age.
    public func resignTerm(name: String, instance: String, epoch: Int64) async throws {
        try await connection.query("""
            UPDATE docket.leadership SET heartbeat_at = NULL, instance_id = NULL
            WHERE name = \(name) AND instance_id = \(instance) AND epoch = \(epoch)
            """, logger: logger)
    }

    /// Terminates `pid` if it is still the backend holding the advisory lock `key` (a frozen leader's lock connection).
    public func terminateHolder(pid: Int32, key: AdvisoryLockKey) async throws -> Bool {
        let rows = try await connection.query("""
            SELECT pg_terminate_backend(l.pid) FROM pg_locks l
            WHERE l.locktype = 'advisory' AND l.granted AND l.pid = \(pid)
              AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database())
              AND l.classid = \(key.namespace)::oid AND l.objid = \(key.key)::oid AND l.objsubid = 2
            """, logger: logger).collect()
        return try rows.first?.decode(Bool.self) ?? false
    }

    /// Terminates the backends holding the leadership row `FOR SHARE` (the fence of a previous leader's sweep, left
    /// open by a process frozen mid-pass; their writes roll back). Only the new term's claimant calls this, holding the
    /// lock — so no live term's sweep can be among them. Returns how many were terminated.
    public func terminateFenceHolders() async throws -> Int {
        let rows = try await connection.query("""
            WITH holders AS MATERIALIZED (
              SELECT l.pid FROM pg_locks l
              WHERE l.locktype = 'relation' AND l.mode = 'RowShareLock' AND l.relation = 'docket.leadership'::regclass
                AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database())
                AND l.granted AND l.pid <> pg_backend_pid())
            SELECT count(*) FILTER (WHERE pg_terminate_backend(pid))::int FROM holders
            """, logger: logger).collect()
        return try rows.first?.decode(Int.self) ?? 0
    }

    /// Bounds how long this transaction waits for a row lock (`SET LOCAL`: it ends with the transaction).
    public func boundLockWaits(milliseconds: Int) async throws {
        try await connection.query("SELECT set_config('lock_timeout', \(String(milliseconds)), true)", logger: logger)
    }

    /// Fencing: whether `instance` still holds term `epoch`, locking the leadership row against a new election until
    /// the caller's transaction ends — so a leader's sweep writes commit before any newer epoch exists, or not at all.
    public func holdsTerm(name: String, instance: String, epoch: Int64) async throws -> Bool {
        !(try await connection.query("""
            SELECT 1 FROM docket.leadership
            WHERE name = \(name) AND instance_id = \(instance) AND epoch = \(epoch) FOR SHARE
            """, logger: logger).collect().isEmpty)
    }
}
