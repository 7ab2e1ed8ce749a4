import DocketCore
import Foundation
import Logging
import PostgresNIO

/// Statements on `docket.instances` and `docket.leadership`.
public struct ClusterQueries: Sendable {
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

    public typealias Leadership = ClusterStatus.Leadership

    public func leadership(name: String) async throws -> Leadership? {
        let rows = try await connection.query("""
            SELECT instance_id, epoch, backend_pid, elected_at, heartbeat_at,
                   extract(epoch FROM now() - heartbeat_at)::float8
            FROM docket.leadership WHERE name = \(name)
            """, logger: logger).collect()
        guard let row = rows.first else { return nil }
        let (instance, epoch, pid, elected, beat, age) = try row.decode((String?, Int64, Int32?, Date?, Date?, Double?).self)
        return Leadership(instanceId: instance, epoch: epoch, backendPid: pid, electedAt: elected, heartbeatAt: beat, heartbeatAge: age)
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
              AND l.classid = \(key.namespace)::oid AND l.objid = \(key.key)::oid AND l.objsubid = 2
            """, logger: logger).collect()
        return try rows.first?.decode(Bool.self) ?? false
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

extension ClusterQueries {
    /// Fencing: whether `instance` still holds term `epoch`, locking the leadership row against a new election until
    /// the caller's transaction ends — so a leader's sweep writes commit before any newer epoch exists, or not at all.
    public func holdsTerm(name: String, instance: String, epoch: Int64) async throws -> Bool {
        !(try await connection.query("""
            SELECT 1 FROM docket.leadership
            WHERE name = \(name) AND instance_id = \(instance) AND epoch = \(epoch) FOR SHARE
            """, logger: logger).collect().isEmpty)
    }
}

extension ClusterQueries {
    /// Records a sweep's pass.
    public func recordSweep(kind: String, instance: String, epoch: Int64, changed: Int, durationMilliseconds: Double) async throws {
        try await connection.query("""
            INSERT INTO docket.sweep_runs (kind, instance_id, epoch, last_run_at, changed, duration_ms, total_changed)
            VALUES (\(kind), \(instance), \(epoch), now(), \(Int32(changed)), \(durationMilliseconds), \(Int64(changed)))
            ON CONFLICT (kind) DO UPDATE SET instance_id = EXCLUDED.instance_id, epoch = EXCLUDED.epoch,
                last_run_at = now(), changed = EXCLUDED.changed, duration_ms = EXCLUDED.duration_ms,
                total_changed = docket.sweep_runs.total_changed + EXCLUDED.changed
            """, logger: logger)
    }

    /// The last pass of every sweep, by kind.
    public func sweeps() async throws -> [String: ClusterStatus.SweepPass] {
        var result: [String: ClusterStatus.SweepPass] = [:]
        for row in try await connection.query("""
            SELECT kind, instance_id, epoch, last_run_at, changed, duration_ms, total_changed FROM docket.sweep_runs
            """, logger: logger).collect() {
            let (kind, instance, epoch, at, changed, duration, total) =
                try row.decode((String, String, Int64, Date, Int32, Double, Int64).self)
            result[kind] = ClusterStatus.SweepPass(instanceId: instance, epoch: epoch, lastRunAt: at, changed: Int(changed),
                                                   durationMilliseconds: duration, totalChanged: total)
        }
        return result
    }
}
