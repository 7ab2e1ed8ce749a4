import DocketCore
import Foundation
import Logging
import PostgresNIO

extension EmbeddedPostgres {
    /// Starts the server when needed, checks it is this folder's own, and makes sure the `docket` database exists.
    public func ensureRunning(logger: Logger) async throws -> DatabaseEndpoint {
        let running = try await start()
        let endpoint = running.endpoint
        try await endpoint.with(database: "postgres").withConnection(logger: logger) { connection in
            try await Self.verify(connection, running: running, logger: logger)
            try await Self.createDatabase(EmbeddedPostgres.databaseName, on: connection, logger: logger)
        }
        return endpoint
    }

    /// Refuses a server that is not the one whose files are in `running.dataDirectory` (another cluster on the socket).
    static func verify(_ connection: PostgresConnection, running: Running, logger: Logger) async throws {
        let rows = try await connection.query(
            "SELECT current_setting('data_directory'), current_setting('port')::int", logger: logger
        ).collect()
        guard let row = rows.first else { return }
        let (directory, port) = try row.decode((String, Int).self)
        let expected = URL(fileURLWithPath: running.dataDirectory).resolvingSymlinksInPath().path
        let actual = URL(fileURLWithPath: directory).resolvingSymlinksInPath().path
        guard actual == expected, port == running.port else {
            throw DocketError(.unavailable, "the server on \(running.socketDirectory) is not this data folder's: it serves "
                + "\(directory) on port \(port), expected \(expected) on port \(running.port)")
        }
    }

    /// Creates a database unless it exists (another process may be creating it at the same moment).
    static func createDatabase(_ name: String, on connection: PostgresConnection, logger: Logger) async throws {
        let exists = try await connection.query(
            "SELECT 1 FROM pg_database WHERE datname = \(name)", logger: logger).collect()
        guard exists.isEmpty else { return }
        do {
            try await connection.query(PostgresQuery(unsafeSQL: "CREATE DATABASE \(quoteIdentifier(name))"), logger: logger)
        } catch let error as PSQLError where error.serverInfo?[.sqlState] == "42P04" {
            return  // created meanwhile by another process
        }
    }

    /// Quotes an identifier for the few statements (CREATE/DROP DATABASE) that take no bound parameters.
    public static func quoteIdentifier(_ name: String) -> String {
        "\"" + name.replacingOccurrences(of: "\"", with: "\"\"") + "\""
    }
}
