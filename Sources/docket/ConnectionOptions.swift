import ArgumentParser
import DocketPostgres
import Logging

/// How a command finds its database: `--database-url`, else the embedded server of `--data-dir`.
struct ConnectionOptions: ParsableArguments {
    @Option(name: .long, help: "PostgreSQL URL (env DOCKET_DATABASE_URL). Without one, the embedded server is used.")
    var databaseURL: String?

    @Option(name: .long, help: "Data folder of the embedded server (env DOCKET_DATA_DIR, default .docket).")
    var dataDir: String?

    @Flag(name: .long, help: "Print JSON instead of a table.")
    var json = false

    func endpoint(logger: Logger) async throws -> DatabaseEndpoint {
        try await DatabaseTarget.resolve(databaseURL: databaseURL, dataDirectory: dataDir, logger: logger)
    }
}

extension Logger {
    static let cli = Logger(label: "docket")
}
