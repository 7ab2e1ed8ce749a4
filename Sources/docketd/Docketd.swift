import DocketCore
import DocketDaemon
import Foundation
import Logging

/// docketd: reads its settings (flags > `DOCKET_*` environment > config file; docs/configuration.md) and runs the
/// daemon. Exit codes: 0 after a graceful shutdown, 1 when it could not serve, 2 for a bad setting.
@main
enum Docketd {
    static func main() async {
        let environment = ProcessInfo.processInfo.environment
        let loaded: (DaemonConfiguration.CommandLine, DaemonConfiguration?)
        do {
            loaded = try DaemonConfiguration.load(arguments: Array(CommandLine.arguments.dropFirst()), environment: environment)
        } catch {
            FileHandle.standardError.write(Data("docketd: invalid configuration: \(error.message)\n".utf8))
            exit(2)
        }
        let (line, parsed) = loaded
        if line.help { print(DaemonConfiguration.usage); exit(0) }
        if line.version { print(DocketDaemon.version); exit(0) }
        guard let settings = parsed else { exit(2) }
        let level = Logger.Level(rawValue: settings.logLevel) ?? .info
        LoggingSystem.bootstrap { label in
            var handler = StreamLogHandler.standardError(label: label)
            handler.logLevel = level
            return handler
        }
        do {
            try await DocketDaemon(settings: settings, logger: Logger(label: "docketd")).run()
        } catch let error as DocketError {
            FileHandle.standardError.write(Data("docketd: \(error.code.rawValue): \(error.message)\n".utf8))
            exit(1)
        } catch {
            FileHandle.standardError.write(Data("docketd: \(error)\n".utf8))
            exit(1)
        }
    }
}
