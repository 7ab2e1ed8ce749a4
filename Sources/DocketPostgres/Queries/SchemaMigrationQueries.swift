import DocketCore
import Foundation
import Logging
import PostgresNIO

/// Statements on `docket.schema_migrations` (the migration files themselves are run by `MigrationRunner`).
public struct SchemaMigrationQueries: Sendable {
    let connection: PostgresConnection
    let logger: Logger

    public init(_ connection: PostgresConnection, logger: Logger) {
        self.connection = connection
        self.logger = logger
    }

    /// One applied migration.
    public struct Applied: Sendable {
        public var name: String
        public var checksum: String?
        public var appliedAt: Date
    }

    /// The applied migrations by version; none before the first migration made the table.
    public func applied() async throws -> [Int: Applied] {
        let exists = try await connection.query("SELECT to_regclass('docket.schema_migrations') IS NOT NULL", logger: logger).collect()
        guard try exists.first?.decode(Bool.self) == true else { return [:] }
        var rows: [Int: Applied] = [:]
        let result = try await connection.query("SELECT version, name, checksum, applied_at FROM docket.schema_migrations", logger: logger)
        for try await (version, name, checksum, appliedAt) in result.decode((Int, String, String?, Date).self) {
            rows[version] = Applied(name: name, checksum: checksum, appliedAt: appliedAt)
        }
        return rows
    }

    /// Stores the checksum of a migration its own file recorded; false when the file did not record its version.
    public func recordChecksum(version: Int, checksum: String) async throws -> Bool {
        let recorded = try await connection.query("""
            UPDATE docket.schema_migrations SET checksum = \(checksum)
            WHERE version = \(version) RETURNING version
            """, logger: logger).collect()
        return !recorded.isEmpty
    }
}
