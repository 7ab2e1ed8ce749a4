import DocketCore
import Foundation
import Logging
import PostgresNIO

/// Applies the embedded migrations in order, each in its own transaction, under a session advisory lock.
///
/// Several instances starting at once are safe: the lock serialises them and each re-reads what is applied after
/// taking it, so the second run finds nothing to do. A database newer than this build is refused.
public struct MigrationRunner: Sendable {
    /// The advisory lock (two-integer form) held while migrating.
    public static let lock = AdvisoryLockKey(namespace: AdvisoryLockKey.docketNamespace, key: 1)

    public let migrations: [Migration]
    public let logger: Logger

    public init(migrations: [Migration] = MigrationCatalog.all, logger: Logger) {
        self.migrations = migrations.sorted { $0.version < $1.version }
        self.logger = logger
    }

    /// Applies every migration the database lacks; returns the versions applied (empty on a second run).
    @discardableResult
    public func migrate(on connection: PostgresConnection) async throws -> [Int] {
        try await SessionQueries(connection, logger: logger).lock(Self.lock)
        do {
            let applied = try await appliedMigrations(on: connection)
            try refuseNewerDatabase(applied)
            let pending = migrations.filter { applied[$0.version] == nil }
            for migration in pending {
                try await apply(migration, on: connection)
            }
            try await unlock(connection)
            return pending.map(\.version)
        } catch {
            _ = try? await unlock(connection)
            throw error
        }
    }

    /// What is applied and what is pending, without changing anything.
    public func status(on connection: PostgresConnection) async throws -> MigrationStatus {
        let applied = try await appliedMigrations(on: connection)
        var entries = migrations.map { migration in
            MigrationStatus.Entry(
                version: migration.version,
                name: migration.name,
                appliedAt: applied[migration.version]?.appliedAt,
                checksumMatches: applied[migration.version].map { $0.checksum == nil || $0.checksum == migration.checksum },
                known: true
            )
        }
        for (version, row) in applied where !migrations.contains(where: { $0.version == version }) {
            entries.append(.init(version: version, name: row.name, appliedAt: row.appliedAt, checksumMatches: nil, known: false))
        }
        return MigrationStatus(entries: entries.sorted { $0.version < $1.version })
    }

    private func apply(_ migration: Migration, on connection: PostgresConnection) async throws {
        logger.info("applying migration", metadata: ["version": "\(migration.version)", "name": "\(migration.name)"])
        let clock = ContinuousClock()
        let started = clock.now
        try await connection.inTransaction(logger: logger) { transaction in
            for statement in migration.statements {
                do {
                    try await transaction.query(PostgresQuery(unsafeSQL: statement), logger: logger)
                } catch let error as PSQLError {
                    let reason = error.serverInfo?[.message] ?? String(reflecting: error)
                    throw DocketError(.internal, "migration \(migration.fileName) failed: \(reason)\nin: \(statement)")
                }
            }
            let recorded = try await SchemaMigrationQueries(transaction, logger: logger)
                .recordChecksum(version: migration.version, checksum: migration.checksum)
            guard recorded else {
                throw DocketError(.internal, "migration \(migration.fileName) did not record version \(migration.version) in docket.schema_migrations")
            }
        }
        logger.info("applied migration", metadata: [
            "version": "\(migration.version)", "duration": "\(clock.now - started)",
        ])
    }

    private func refuseNewerDatabase(_ applied: [Int: SchemaMigrationQueries.Applied]) throws {
        let newest = applied.keys.max() ?? 0
        let known = migrations.last?.version ?? 0
        guard newest <= known else {
            throw DocketError(.internal, "database schema is at version \(newest), newer than this build knows "
                + "(up to \(known)); run a newer docket")
        }
    }

    private func appliedMigrations(on connection: PostgresConnection) async throws -> [Int: SchemaMigrationQueries.Applied] {
        try await SchemaMigrationQueries(connection, logger: logger).applied()
    }

    private func unlock(_ connection: PostgresConnection) async throws {
        try await SessionQueries(connection, logger: logger).unlock(Self.lock)
    }
}

/// Applied and pending migrations, for `docket migrate status`.
public struct MigrationStatus: Sendable {
    public struct Entry: Sendable {
        public var version: Int
        public var name: String
        /// When it was applied; nil while pending.
        public var appliedAt: Date?
        /// Whether the applied text matches this build's file; nil while pending or unknown.
        public var checksumMatches: Bool?
        /// False for a version the database has and this build does not.
        public var known: Bool
    }

    public var entries: [Entry]
    public var pending: [Entry] { entries.filter { $0.appliedAt == nil } }
    public var currentVersion: Int { entries.filter { $0.appliedAt != nil }.map(\.version).max() ?? 0 }
}
