import DocketCore
import Foundation
import Logging
import PostgresNIO

/// Statements about the session and the server rather than a table: settings, advisory locks, the catalog.
public struct SessionQueries: Sendable {
    let connection: PostgresConnection
    let logger: Logger

    public init(_ connection: PostgresConnection, logger: Logger) {
        self.connection = connection
        self.logger = logger
    }

    /// `SELECT 1`: the server answers.
    public func ping() async throws {
        _ = try await connection.query("SELECT 1", logger: logger).collect()
    }

    /// Names the session in `pg_stat_activity`.
    public func setApplicationName(_ name: String) async throws {
        try await connection.query("SELECT set_config('application_name', \(name), false)", logger: logger)
    }

    /// Server-side TCP keepalives for this session, in seconds (they take no bound parameters: whole numbers only).
    public func setKeepalives(idle: Int, interval: Int, count: Int) async throws {
        try await connection.query(PostgresQuery(unsafeSQL: "SET tcp_keepalives_idle = \(idle)"), logger: logger)
        try await connection.query(PostgresQuery(unsafeSQL: "SET tcp_keepalives_interval = \(interval)"), logger: logger)
        try await connection.query(PostgresQuery(unsafeSQL: "SET tcp_keepalives_count = \(count)"), logger: logger)
    }

    /// Takes the session advisory lock `key` if it is free; whether it was taken.
    public func tryLock(_ key: AdvisoryLockKey) async throws -> Bool {
        try await connection.query("SELECT pg_try_advisory_lock(\(key.namespace), \(key.key))", logger: logger)
            .collect().first?.decode(Bool.self) ?? false
    }

    /// Waits for the session advisory lock `key`.
    public func lock(_ key: AdvisoryLockKey) async throws {
        try await connection.query("SELECT pg_advisory_lock(\(key.namespace), \(key.key))", logger: logger)
    }

    public func unlock(_ key: AdvisoryLockKey) async throws {
        try await connection.query("SELECT pg_advisory_unlock(\(key.namespace), \(key.key))", logger: logger)
    }

    /// The server's data folder and port (to tell one cluster from another on the same socket folder).
    public func serverIdentity() async throws -> (dataDirectory: String, port: Int)? {
        let rows = try await connection.query(
            "SELECT current_setting('data_directory'), current_setting('port')::int", logger: logger).collect()
        return try rows.first.map { try $0.decode((String, Int).self) }
    }

    /// Creates a database unless it exists (another process may be creating it at the same moment).
    public func createDatabase(_ name: String) async throws {
        let exists = try await connection.query("SELECT 1 FROM pg_database WHERE datname = \(name)", logger: logger).collect()
        guard exists.isEmpty else { return }
        do {
            try await connection.query(PostgresQuery(unsafeSQL: "CREATE DATABASE \(Self.quoteIdentifier(name))"), logger: logger)
        } catch let error as PSQLError where error.serverInfo?[.sqlState] == "42P04" {
            return  // created meanwhile by another process
        }
    }

    /// Quotes an identifier for the few statements (CREATE/DROP DATABASE) that take no bound parameters.
    public static func quoteIdentifier(_ name: String) -> String {
        "\"" + name.replacingOccurrences(of: "\"", with: "\"\"") + "\""
    }
}
