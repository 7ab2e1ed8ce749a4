import DocketCore
import DocketTestSupport
import Foundation
import Logging
import PostgresNIO
import Testing
@testable import DocketPostgres

/// `docket migrate` as a user runs it: real processes against one database.
struct MigrateCommandTests {
    let logger = Logger(label: "test.migrate-cli")

    var docket: String {
        get throws {
            let path = ProcessInfo.processInfo.environment["DOCKET_BIN"] ?? packageRoot + "/.build/debug/docket"
            guard FileManager.default.isExecutableFile(atPath: path) else {
                throw DocketError(.internal, "no docket binary at \(path): run `swift build` before `swift test`")
            }
            return path
        }
    }

    @Test func fourConcurrentMigrateProcessesOnAFreshDatabase() async throws {
        let binary = try docket
        try await withTestDatabase(migrated: false) { endpoint in
            let outputs = try await withThrowingTaskGroup(of: Command.Output.self) { group in
                for _ in 0..<4 {
                    group.addTask {
                        try await Command(executable: binary, arguments: ["migrate", "--database-url", endpoint.url, "--json"]).runAsync()
                    }
                }
                return try await group.reduce(into: []) { $0.append($1) }
            }
            for output in outputs {
                #expect(output.status == 0, "docket migrate failed: \(output.text)")
            }
            let applying = outputs.filter { $0.text.contains("\"applied\":[1") }
            #expect(applying.count == 1, "exactly one process applies the migrations: \(outputs.map(\.text))")

            let status = try await Command(executable: binary, arguments: ["migrate", "status", "--database-url", endpoint.url]).runAsync()
            #expect(status.status == 0)
            #expect(status.text.contains("is at version \(MigrationCatalog.latestVersion); 0 pending"))
        }
    }

    @Test func usageErrorsExitTwoAndRefusalsExitOne() async throws {
        let binary = try docket
        let usage = try await Command(executable: binary, arguments: ["migrate", "--no-such-flag"]).runAsync()
        #expect(usage.status == 2)
        let refused = try await Command(executable: binary, arguments: ["migrate", "--database-url", "mysql://nope"]).runAsync()
        #expect(refused.status == 1)
        #expect(refused.text.contains("VALIDATION_ERROR"))
    }
}
