import DocketCore
import Foundation
import Logging
import PostgresNIO

/// Statements on `docket.sweep_runs`.
public struct SweepRunQueries: Sendable {
    let connection: PostgresConnection
    let logger: Logger

    public init(_ connection: PostgresConnection, logger: Logger) {
        self.connection = connection
        self.logger = logger
    }

    /// Records a sweep's pass.
    public func record(kind: String, instance: String, epoch: Int64, changed: Int, durationMilliseconds: Double) async throws {
        try await connection.query("""
            INSERT INTO docket.sweep_runs (kind, instance_id, epoch, last_run_at, changed, duration_ms, total_changed)
            VALUES (\(kind), \(instance), \(epoch), now(), \(Int32(changed)), \(durationMilliseconds), \(Int64(changed)))
            ON CONFLICT (kind) DO UPDATE SET instance_id = EXCLUDED.instance_id, epoch = EXCLUDED.epoch,
                last_run_at = now(), changed = EXCLUDED.changed, duration_ms = EXCLUDED.duration_ms,
                total_changed = docket.sweep_runs.total_changed + EXCLUDED.changed
            """, logger: logger)
    }

    /// The last pass of every sweep, by kind.
    public func all() async throws -> [String: ClusterStatus.SweepPass] {
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
