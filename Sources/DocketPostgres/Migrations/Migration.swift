/// One numbered SQL file of `migrations/`, as embedded in the binary at build time.
public struct Migration: Sendable, Hashable {
    public let version: Int
    public let name: String
    public let fileName: String
    public let sql: String

    /// A short fingerprint of the file's text, recorded when applied, to notice a file edited after the fact.
    public var checksum: String {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in sql.utf8 {
            hash ^= UInt64(byte)
            hash = hash &* 0x0000_0100_0000_01b3
        }
        let hex = String(hash, radix: 16)
        return String(repeating: "0", count: 16 - hex.count) + hex
    }

    /// The statements of the file, in order.
    public var statements: [String] { SQLScript.statements(in: sql) }
}

/// The migrations this build knows, from `migrations/NNNN_name.sql`.
public enum MigrationCatalog {
    /// Every embedded migration, ordered by version; a badly named or duplicated file is a build mistake and traps.
    public static let all: [Migration] = {
        let migrations = embeddedFiles.map { file -> Migration in
            guard let migration = parse(fileName: file.fileName, sql: file.sql) else {
                preconditionFailure("migration file \(file.fileName) is not named NNNN_name.sql")
            }
            return migration
        }.sorted { $0.version < $1.version }
        precondition(Set(migrations.map(\.version)).count == migrations.count, "two migrations share a version")
        return migrations
    }()

    /// The newest version this build knows.
    public static var latestVersion: Int { all.last?.version ?? 0 }

    /// Reads `0001_base_schema.sql` as version 1, name `base_schema`.
    public static func parse(fileName: String, sql: String) -> Migration? {
        guard fileName.hasSuffix(".sql") else { return nil }
        let stem = fileName.dropLast(4)
        guard let underscore = stem.firstIndex(of: "_"),
              let version = Int(stem[..<underscore]), version > 0 else { return nil }
        let name = String(stem[stem.index(after: underscore)...])
        guard !name.isEmpty else { return nil }
        return Migration(version: version, name: name, fileName: fileName, sql: sql)
    }
}
