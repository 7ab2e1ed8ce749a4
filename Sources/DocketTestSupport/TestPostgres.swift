import DocketCore
import DocketPostgres
import Foundation
import Logging
import PostgresNIO

/// One PostgreSQL server for a whole test run, started by the project's own launcher in a throwaway folder.
///
/// Each test gets a fresh database cloned from a migrated template, so storage tests run in parallel. The server is
/// stopped when the test process exits (an `atexit` handler) and, should the process die without running it, by a
/// watchdog that waits for the process to vanish.
public actor TestPostgres {
    public static let shared = TestPostgres()

    /// The template every test database is cloned from: fully migrated.
    public static let templateName = "docket_template"

    struct Setup {
        var server: EmbeddedPostgres
        var endpoint: DatabaseEndpoint
        var admin: PostgresConnection
    }

    private var setup: Task<Setup, any Error>?
    private var counter = 0
    private let logger = Logger(label: "docket.test-postgres")

    /// The server, started on first use, with the migrated template in place.
    func ready() async throws -> Setup {
        if let setup { return try await setup.value }
        let task = Task { try await Self.start(logger: logger) }
        setup = task
        return try await task.value
    }

    /// A new database: a clone of the migrated template, or an empty one when `migrated` is false.
    public func createDatabase(migrated: Bool = true) async throws -> DatabaseEndpoint {
        let setup = try await ready()
        counter += 1
        let name = "test_\(getpid())_\(counter)"
        let template = migrated ? Self.templateName : "template0"
        try await setup.admin.query(PostgresQuery(unsafeSQL:
            "CREATE DATABASE \(EmbeddedPostgres.quoteIdentifier(name)) TEMPLATE \(template)"), logger: logger)
        return setup.endpoint.with(database: name)
    }

    /// Drops a test database, ending its sessions.
    public func dropDatabase(_ endpoint: DatabaseEndpoint) async {
        guard let setup = try? await ready() else { return }
        _ = try? await setup.admin.query(PostgresQuery(unsafeSQL:
            "DROP DATABASE IF EXISTS \(EmbeddedPostgres.quoteIdentifier(endpoint.database)) WITH (FORCE)"), logger: logger)
    }

    private static func start(logger: Logger) async throws -> Setup {
        let folder = ProcessInfo.processInfo.environment["DOCKET_TEST_DATA_DIR"]
            ?? "/tmp/docket-test-\(getpid())"
        let server = try EmbeddedPostgres(dataDirectory: folder, serverSettings: [
            "fsync": "off", "synchronous_commit": "off", "full_page_writes": "off", "max_connections": "300",
        ])
        let running = try await server.start()
        TestCleanup.register(server: server, running: running)
        let endpoint = try await server.ensureRunning(logger: logger)
        let admin = try await endpoint.with(database: "postgres").connect(logger: logger)
        try await admin.query(PostgresQuery(unsafeSQL: "CREATE DATABASE \(templateName) TEMPLATE template0"), logger: logger)
        _ = try await endpoint.with(database: templateName).withConnection(logger: logger) { connection in
            try await MigrationRunner(logger: logger).migrate(on: connection)
        }
        return Setup(server: server, endpoint: endpoint, admin: admin)
    }
}

/// Runs `body` with a fresh database of its own, dropped afterwards.
public func withTestDatabase<T: Sendable>(
    migrated: Bool = true,
    _ body: (DatabaseEndpoint) async throws -> T
) async throws -> T {
    let endpoint = try await TestPostgres.shared.createDatabase(migrated: migrated)
    do {
        let value = try await body(endpoint)
        await TestPostgres.shared.dropDatabase(endpoint)
        return value
    } catch {
        await TestPostgres.shared.dropDatabase(endpoint)
        throw error
    }
}

/// Runs `body` with a pool on a fresh migrated database of its own (the pool runs for the body's duration).
public func withTestDatabaseClient<T: Sendable>(_ body: @Sendable (Database) async throws -> T) async throws -> T {
    try await withTestDatabase { endpoint in
        // Storage tests check behaviour, not deadlines, on a loaded machine: generous limits.
        var limits = DatabaseLimits()
        limits.acquireTimeout = .seconds(30)
        limits.requestTimeout = .seconds(60)
        limits.statementTimeout = .seconds(60)
        return try await Database.with(endpoint, size: 20, limits: limits, logger: Logger(label: "docket.test"), body)
    }
}
