import DocketCore
import Foundation
import Logging

/// Which database a command or server uses: the URL it was given, or else its data folder's embedded server.
public enum DatabaseTarget {
    /// Resolves `--database-url` / `DOCKET_DATABASE_URL`, falling back to the embedded server of `--data-dir` /
    /// `DOCKET_DATA_DIR` / `.docket`, which is started when it is not running.
    public static func resolve(
        databaseURL: String?,
        dataDirectory: String?,
        environment: [String: String] = ProcessInfo.processInfo.environment,
        logger: Logger
    ) async throws -> DatabaseEndpoint {
        let embedded = try embeddedServer(databaseURL: databaseURL, dataDirectory: dataDirectory, environment: environment)
        guard let embedded else {
            return try DatabaseEndpoint(url: databaseURL ?? environment["DOCKET_DATABASE_URL"] ?? "")
        }
        return try await embedded.ensureRunning(logger: logger)
    }

    /// The embedded server these settings use, or nil when a database URL is given.
    public static func embeddedServer(
        databaseURL: String?, dataDirectory: String?, environment: [String: String] = ProcessInfo.processInfo.environment
    ) throws -> EmbeddedPostgres? {
        if let url = databaseURL ?? environment["DOCKET_DATABASE_URL"], !url.isEmpty { return nil }
        return try EmbeddedPostgres(dataDirectory: dataDirectory ?? EmbeddedPostgres.defaultDataDirectory(environment: environment))
    }
}
