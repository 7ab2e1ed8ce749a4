import DocketCore
import DocketPostgres
import DocketServices
import Foundation
import Logging
import PostgresNIO

/// The first admin key: made on a database's first start, printed once and kept (mode 0600) in the data folder.
public enum BootstrapKey {
    static let description = "bootstrap admin"
    static let lock = AdvisoryLockKey(namespace: AdvisoryLockKey.docketNamespace, key: 3)

    /// The file in `dataDirectory` that holds the bootstrap key.
    public static func path(in dataDirectory: String) -> String { dataDirectory + "/admin.key" }

    /// Creates the bootstrap key unless the database has one; returns the token when it made one.
    ///
    /// The check and the creation run under an advisory lock on `connection`, so docketd processes starting together
    /// make one key between them.
    public static func ensure(keys: APIKeyService, connection: PostgresConnection, dataDirectory: String,
                              logger: Logger) async throws -> String? {
        let session = SessionQueries(connection, logger: logger)
        try await session.lock(lock)
        do {
            var token: String?
            if !(try await APIKeyQueries(connection, logger: logger).hasLiveKey(described: description)) {
                let admin = Principal(id: "admin", type: .system, tenantId: "system", scopes: Set(Scope.allCases))
                token = try await keys.create(for: admin, description: description).token
                try FileManager.default.createDirectory(atPath: dataDirectory, withIntermediateDirectories: true)
                let file = path(in: dataDirectory)
                _ = FileManager.default.createFile(atPath: file, contents: Data((token! + "\n").utf8),
                                               attributes: [.posixPermissions: 0o600])
            }
            try await session.unlock(lock)
            return token
        } catch {
            _ = try? await session.unlock(lock)
            throw error
        }
    }
}
