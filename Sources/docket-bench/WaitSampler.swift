import Foundation
import Logging
import PostgresNIO
import Synchronization

/// What PostgreSQL's connections were doing during a scenario (with `--against-postgres`): `pg_stat_activity`
/// sampled every 100 ms, each client backend counted by its wait event (or, when it waits for nothing, its state:
/// `active` is running, `idle` waits for docketd to send a statement). Read as "of the database's connections, on
/// average, how many were doing what".
final class WaitSampler: Sendable {
    private let tally = Mutex<(samples: Int, counts: [String: Int])>((0, [:]))
    private let task = Mutex<Task<Void, Never>?>(nil)
    private let pool: PostgresClient
    private let logger: Logger

    init(pool: PostgresClient, logger: Logger) {
        self.pool = pool
        self.logger = logger
    }

    /// Runs `body` (one scenario's docketd side) while sampling.
    func during<T>(_ body: () async throws -> T) async rethrows -> T {
        start()
        defer { stopSampling() }
        return try await body()
    }

    private func start() {
        let pool = self.pool, logger = self.logger
        let sampling = Task {
            while !Task.isCancelled {
                if let rows = try? await pool.query("""
                    SELECT coalesce(wait_event_type || ':' || wait_event, state, '?') FROM pg_stat_activity
                     WHERE backend_type = 'client backend' AND pid <> pg_backend_pid() AND datname = current_database()
                    """, logger: logger).collect() {
                    let states = rows.compactMap { try? $0.decode(String.self) }
                    tally.withLock { tally in
                        tally.samples += 1
                        for state in states { tally.counts[state, default: 0] += 1 }
                    }
                }
                try? await Task.sleep(for: .milliseconds(100))
            }
        }
        task.withLock { $0 = sampling }
    }

    private func stopSampling() {
        task.withLock { task in
            task?.cancel()
            task = nil
        }
    }

    /// The average number of connections in each state over the last `during`, most first; the tally starts over.
    func states() -> [(state: String, connections: Double)] {
        let (samples, counts) = tally.withLock { tally in defer { tally = (0, [:]) }; return tally }
        return counts.map { (state: $0.key, connections: Double($0.value) / Double(max(samples, 1))) }
            .sorted { $0.connections > $1.connections }
    }
}
