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
            try await SessionQueries(connection, logger: logger).createDatabase(EmbeddedPostgres.databaseName)
        }
        return endpoint
    }

    /// Refuses a server that is not the one whose files are in `running.dataDirectory` (another cluster on the socket).
    static func verify(_ connection: PostgresConnection, running: Running, logger: Logger) async throws {
        guard let (directory, port) = try await SessionQueries(connection, logger: logger).serverIdentity() else { return }
        let expected = URL(fileURLWithPath: running.dataDirectory).resolvingSymlinksInPath().path
        let actual = URL(fileURLWithPath: directory).resolvingSymlinksInPath().path
        guard actual == expected, port == running.port else {
            throw DocketError(.unavailable, "the server on \(running.socketDirectory) is not this data folder's: it serves "
                + "\(directory) on port \(port), expected \(expected) on port \(running.port)")
        }
    }

    /// Quotes an identifier for the few statements (CREATE/DROP DATABASE) that take no bound parameters.
    public static func quoteIdentifier(_ name: String) -> String { SessionQueries.quoteIdentifier(name) }
}
