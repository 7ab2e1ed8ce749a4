import DocketCore
import DocketPostgres
import DocketServices
import DocketTestSupport
import Foundation
import Testing

struct JobRecoveryTests {
    /// Killing every session of the database mid-run surfaces as `UNAVAILABLE` at worst, never as a crash, and the
    /// service works again right after.
    @Test func terminatedSessionsAreUnavailableThenRecover() async throws {
        try await withJobService { jobs, database in
            let job = try await jobs.make()
            // Make the pool open several sessions, so some other than the terminating one exist: three calls that each
            // hold a connection at the same moment (heartbeats alone could all reuse one session under load).
            try await withThrowingTaskGroup(of: Void.self) { group in
                for _ in 0..<3 {
                    group.addTask {
                        try await database.read { connection in
                            _ = try await connection.query("SELECT pg_sleep(0.3)", logger: database.logger).collect()
                        }
                    }
                }
                for _ in 0..<3 { group.addTask { _ = try await jobs.heartbeat(job.id, by: Actors.executor) } }
                try await group.waitForAll()
            }
            let admin = try await TestAdmin.terminateSessions(of: database)
            #expect(admin >= 1, "at least one pooled session was terminated")
            for _ in 0..<3 {
                let code = await errorCode { _ = try await jobs.get(job.id, by: Actors.reader) }
                #expect(code == nil || code == .unavailable)
            }
            let recovered = try? await eventually(.seconds(5), every: .milliseconds(100)) {
                (try? await jobs.get(job.id, by: Actors.reader)).map { _ in true }
            }
            #expect(recovered == true)
        }
    }
}

enum TestAdmin {
    /// Terminates every other session connected to the pool's database, from a session of its own.
    static func terminateSessions(of database: Database) async throws -> Int {
        try await database.read { connection in
            let rows = try await connection.query("""
                SELECT count(*)::int FROM (
                    SELECT pg_terminate_backend(pid) FROM pg_stat_activity
                    WHERE datname = current_database() AND pid <> pg_backend_pid()
                ) AS killed
                """, logger: database.logger).collect()
            return try rows.first?.decode(Int.self) ?? 0
        }
    }
}
