import DocketCore
import Foundation

/// Runs a local program to completion and captures what it printed.
struct Command: Sendable {
    var executable: String
    var arguments: [String]
    /// When set, the program runs as this user through `runuser` (we are root and PostgreSQL refuses root).
    var user: String?

    struct Output: Sendable {
        var status: Int32
        var text: String
    }

    /// Runs the program, returning its exit status and combined output.
    func run() throws -> Output {
        let process = Process()
        if let user {
            process.executableURL = URL(fileURLWithPath: Command.runuser)
            process.arguments = ["-u", user, "--", executable] + arguments
        } else {
            process.executableURL = URL(fileURLWithPath: executable)
            process.arguments = arguments
        }
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = pipe
        process.standardInput = FileHandle.nullDevice
        do {
            try process.run()
        } catch {
            throw DocketError(.unavailable, "cannot run \(executable): \(error.localizedDescription)")
        }
        let data = pipe.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return Output(status: process.terminationStatus, text: String(decoding: data, as: UTF8.self))
    }

    /// Runs the program and throws `UNAVAILABLE` with its output when it fails.
    @discardableResult
    func check(_ what: String) throws -> String {
        let output = try run()
        guard output.status == 0 else {
            throw DocketError(.unavailable, "\(what) failed (exit \(output.status)): \(output.text.trimmingWhitespace())")
        }
        return output.text
    }

    static let runuser = ["/usr/sbin/runuser", "/sbin/runuser", "/usr/bin/runuser"]
        .first { FileManager.default.isExecutableFile(atPath: $0) } ?? "runuser"
}
