import DocketCore
import DocketTestSupport
import Logging
import PostgresNIO
import Testing
@testable import DocketPostgres

struct MigrationRunnerTests {
    let logger = Logger(label: "test.migrations")

    @Test func appliesEverythingOnceThenNothing() async throws {
        try await withTestDatabase(migrated: false) { endpoint in
            let runner = MigrationRunner(logger: logger)
            try await endpoint.withConnection(logger: logger) { connection in
                let before = try await runner.status(on: connection)
                #expect(before.currentVersion == 0)
                #expect(before.pending.count == MigrationCatalog.all.count)

                let first = try await runner.migrate(on: connection)
                #expect(first == MigrationCatalog.all.map(\.version))
                let second = try await runner.migrate(on: connection)
                #expect(second.isEmpty)

                let after = try await runner.status(on: connection)
                #expect(after.currentVersion == MigrationCatalog.latestVersion)
                #expect(after.pending.isEmpty)
                #expect(after.entries.allSatisfy { $0.checksumMatches == true })
            }
        }
    }

    @Test func fourConcurrentRunnersApplyEachMigrationOnce() async throws {
        try await withTestDatabase(migrated: false) { endpoint in
            let applied = try await withThrowingTaskGroup(of: [Int].self) { group in
                for _ in 0..<4 {
                    group.addTask {
                        try await endpoint.withConnection(logger: logger) { connection in
                            try await MigrationRunner(logger: logger).migrate(on: connection)
                        }
                    }
                }
                return try await group.reduce(into: [Int]()) { $0 += $1 }
            }
            #expect(applied.sorted() == MigrationCatalog.all.map(\.version))
            let rows = try await endpoint.withConnection(logger: logger) { connection in
                try await connection.query("SELECT count(*)::int FROM docket.schema_migrations", logger: logger)
                    .collect().first?.decode(Int.self)
            }
            #expect(rows == MigrationCatalog.all.count)
        }
    }

    @Test func refusesADatabaseNewerThanItKnows() async throws {
        try await withTestDatabase { endpoint in
            try await endpoint.withConnection(logger: logger) { connection in
                try await connection.query(
                    "INSERT INTO docket.schema_migrations (version, name) VALUES (9999, 'from_the_future')", logger: logger)
                let error = try await #require(throws: DocketError.self) {
                    try await MigrationRunner(logger: logger).migrate(on: connection)
                }
                #expect(error.message.contains("version 9999, newer than this build knows"))
                let status = try await MigrationRunner(logger: logger).status(on: connection)
                #expect(status.entries.last?.known == false)
            }
        }
    }

    @Test func aFailingMigrationRollsBackWholly() async throws {
        let good = try #require(MigrationCatalog.all.first)
        let bad = Migration(version: good.version + 1, name: "broken", fileName: "0002_broken.sql", sql: """
            CREATE TABLE docket.half_done (x int);
            INSERT INTO docket.no_such_table VALUES (1);
            INSERT INTO docket.schema_migrations (version, name) VALUES (2, 'broken');
            """)
        try await withTestDatabase(migrated: false) { endpoint in
            try await endpoint.withConnection(logger: logger) { connection in
                let runner = MigrationRunner(migrations: [good, bad], logger: logger)
                let error = try await #require(throws: DocketError.self) { try await runner.migrate(on: connection) }
                #expect(error.message.contains("0002_broken.sql"))
                #expect(error.message.contains("no_such_table"))
                let state = try await connection.query("""
                    SELECT to_regclass('docket.half_done') IS NULL, max(version)::int FROM docket.schema_migrations
                    """, logger: logger).collect().first?.decode((Bool, Int).self)
                #expect(state?.0 == true, "the failed file's table is rolled back")
                #expect(state?.1 == good.version, "the earlier file stays applied")
                // The lock was released: a corrected run can go on.
                #expect(try await MigrationRunner(migrations: [good], logger: logger).migrate(on: connection).isEmpty)
            }
        }
    }

    @Test func aMigrationThatDoesNotRecordItselfIsRefused() async throws {
        let good = try #require(MigrationCatalog.all.first)
        let silent = Migration(version: good.version + 1, name: "silent", fileName: "0002_silent.sql",
                               sql: "CREATE TABLE docket.silent (x int);")
        try await withTestDatabase(migrated: false) { endpoint in
            try await endpoint.withConnection(logger: logger) { connection in
                let error = try await #require(throws: DocketError.self) {
                    try await MigrationRunner(migrations: [good, silent], logger: logger).migrate(on: connection)
                }
                #expect(error.message.contains("did not record version 2"))
            }
        }
    }
}
