import DocketClient
import DocketCore
import DocketPostgres
import Foundation
import Logging

/// A real docketd process on a test database, on free ports.
public struct Docketd: Sendable {
    public let process: RunningCommand
    public let port: Int
    public let httpPort: Int
    public let token: String
    public let dataDirectory: String

    /// Starts docketd on `endpoint` and waits until it listens.
    ///
    /// Unless `flags` set their own, it waits up to 10 s for a pooled connection (the product's default is 2 s): the
    /// parallel test phase runs dozens of databases and several docketd on two cores, where a 2 s wait for a
    /// connection ran out in tests that are not about it. The tests of the timeouts set theirs.
    public static func start(_ endpoint: DatabaseEndpoint, _ flags: [String] = [], folder shared: String? = nil) async throws -> Docketd {
        let folder = shared ?? "/tmp/docketd-test-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
        let patience = flags.contains("--acquire-timeout") || flags.contains("--request-timeout")
            ? [] : ["--acquire-timeout", "10", "--request-timeout", "20"]
        let process = try Command(executable: try PackagePaths.docketd, arguments: [
            "--listen", "127.0.0.1:0", "--http", "127.0.0.1:0", "--database-url", endpoint.url, "--data-dir", folder,
            "--log-level", "warning",
        ] + patience + flags).start()
        let line = try await process.waitForLine { $0.hasPrefix("docketd listening on ") }
        let ports = line.split(separator: " ").compactMap { word -> Int? in
            word.split(separator: ":").last.flatMap { Int($0.trimmingCharacters(in: CharacterSet(charactersIn: ",)"))) }
        }
        // Only the first docketd on a database writes the admin key; a later one (a restart) has none to read.
        let token = (try? String(contentsOfFile: BootstrapPath.file(folder), encoding: .utf8))?.trimmingCharacters(in: .whitespacesAndNewlines) ?? ""
        return Docketd(process: process, port: ports[0], httpPort: ports[1], token: token, dataDirectory: folder)
    }

    public func client(token: String? = nil) async throws -> DocketClient {
        try await DocketClient.connect(host: "127.0.0.1", port: port, token: token ?? self.token)
    }

    /// A raw connection, authenticated with the admin key unless `authenticate` is false.
    public func raw(authenticate: Bool = true, receiveBuffer: Int? = nil, timeoutSeconds: Int = 10) throws -> RawConnection {
        let connection = try RawConnection(port: port, receiveBuffer: receiveBuffer, timeoutSeconds: timeoutSeconds)
        if authenticate {
            let answer = try connection.authenticate(token)
            guard answer["ok"] == .bool(true) else { throw DocketError(.unauthenticated, "the admin key was refused: \(answer)") }
        }
        return connection
    }

    /// One metric from `/metrics`.
    public func metric(_ name: String) throws -> Double? { try HTTP.metric(port: httpPort, name) }

    /// SIGTERM, then the exit status.
    public func stop(timeout: Duration = .seconds(25)) async throws -> Int32 {
        process.signal(SIGTERM)
        defer { try? FileManager.default.removeItem(atPath: dataDirectory) }
        do {
            return try await process.wait(timeout: timeout)
        } catch {
            // It did not drain in time: never leave it behind, and fail the caller.
            process.signal(SIGKILL)
            _ = try? await process.wait()
            throw error
        }
    }

    /// SIGKILL, and waits for it to be gone.
    public func kill() async {
        process.signal(SIGKILL)
        _ = try? await process.wait()
    }

    /// The process's resident memory in megabytes.
    public var residentMegabytes: Int { ProcessStatus.residentMegabytes(process.pid) }

    /// Its TCP sockets in CLOSE-WAIT.
    public var closeWaitSockets: Int { ProcessStatus.closeWaitSockets(process.pid) }
}

public enum BootstrapPath {
    public static func file(_ folder: String) -> String { folder + "/admin.key" }
}

/// Runs `body` with a docketd on a fresh database, stopping it afterwards whatever happens.
public func withDocketd<T: Sendable>(
    _ flags: [String] = [], _ body: @Sendable (Docketd, DatabaseEndpoint) async throws -> T
) async throws -> T {
    try await withTestDatabase(migrated: false) { endpoint in
        let server = try await Docketd.start(endpoint, flags)
        do {
            let value = try await body(server, endpoint)
            _ = try await server.stop()
            return value
        } catch {
            _ = try? await server.stop()
            throw error
        }
    }
}

/// Runs `body` with a pool on `endpoint` (for a test to read or seed a docketd's database directly).
public func withDatabase<T: Sendable>(_ endpoint: DatabaseEndpoint, _ body: @Sendable (Database) async throws -> T) async throws -> T {
    try await Database.with(endpoint, logger: Logger(label: "test"), body)
}

/// What /proc says about a process.
public enum ProcessStatus {
    /// Resident memory in megabytes.
    public static func residentMegabytes(_ pid: Int32) -> Int {
        guard let status = try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8),
              let line = status.split(separator: "\n").first(where: { $0.hasPrefix("VmRSS:") }),
              let kb = Int(line.split(separator: " ").dropFirst().first ?? "") else { return 0 }
        return kb / 1024
    }

    /// TCP sockets of a process in CLOSE-WAIT: the peer closed, the process never did (a leaked connection).
    public static func closeWaitSockets(_ pid: Int32) -> Int {
        let fds = (try? FileManager.default.contentsOfDirectory(atPath: "/proc/\(pid)/fd")) ?? []
        var inodes = Set<String>()
        for fd in fds {
            guard let target = try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/\(pid)/fd/\(fd)"),
                  target.hasPrefix("socket:[") else { continue }
            inodes.insert(String(target.dropFirst(8).dropLast()))
        }
        var count = 0
        for table in ["/proc/net/tcp", "/proc/net/tcp6"] {
            guard let text = try? String(contentsOfFile: table, encoding: .utf8) else { continue }
            for line in text.split(separator: "\n").dropFirst() {
                let columns = line.split(separator: " ")
                if columns.count > 9, columns[3] == "08", inodes.contains(String(columns[9])) { count += 1 }
            }
        }
        return count
    }

    /// Open file descriptors of a process (sockets among them).
    public static func openFiles(_ pid: Int32) -> Int {
        (try? FileManager.default.contentsOfDirectory(atPath: "/proc/\(pid)/fd").count) ?? 0
    }
}
