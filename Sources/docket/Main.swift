import ArgumentParser
import DocketCore
import Foundation
import Logging

/// The admin CLI. Exit codes: 0 ok, 1 refused or failed (the error code is printed), 2 usage.
@main
enum Main {
    static func main() async {
        LoggingSystem.bootstrap { label in
            var handler = StreamLogHandler.standardError(label: label)
            handler.logLevel = ProcessInfo.processInfo.environment["DOCKET_LOG_LEVEL"].flatMap { Logger.Level(rawValue: $0) } ?? .warning
            return handler
        }
        do {
            var command = try Docket.parseAsRoot()
            if var asyncCommand = command as? any AsyncParsableCommand {
                try await asyncCommand.run()
            } else {
                try command.run()
            }
        } catch let error as DocketError {
            FileHandle.standardError.write(Data("error: \(error.code.rawValue): \(error.message)\n".utf8))
            exit(1)
        } catch {
            let code = Docket.exitCode(for: error)
            let message = Docket.fullMessage(for: error)
            if code == .success {
                print(message)
                exit(0)
            }
            FileHandle.standardError.write(Data((message.isEmpty ? "" : message + "\n").utf8))
            exit(code == .validationFailure ? 2 : code.rawValue)
        }
    }
}

struct Docket: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "docket",
        abstract: "Operate a Docket cluster: migrations, the embedded database, API keys, budgets, jobs and tasks.",
        subcommands: [Migrate.self, DB.self, Keys.self, BudgetCommand.self, Jobs.self, Queues.self, Tasks.self, Cluster.self, Events.self]
    )
}
