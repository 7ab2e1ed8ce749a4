import DocketCore
import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// The private PostgreSQL server of a data folder (SPEC 6): initialised on first use, on a unix socket of its own.
///
/// Every process given the same data folder shares one server: start and stop take a file lock in the folder, and a
/// running server is found through its `postmaster.pid`. As root, the server runs as the `postgres` user; when that
/// user cannot reach the data folder (a checkout under `/root`), the server's files go to a folder it can reach and
/// the data folder keeps a pointer to it (`postgres.location`).
public struct EmbeddedPostgres: Sendable {
    /// The superuser and database the launcher creates.
    public static let username = "docket"
    public static let databaseName = "docket"

    /// The data folder, absolute.
    public let dataDirectory: String
    /// Extra `postgres -c name=value` settings for every start (tests turn durability off here).
    public let serverSettings: [String: String]
    public let binaries: PostgresBinaries
    /// The OS user the server runs as when not ourselves (root → `postgres`).
    let serverUser: String?

    public init(dataDirectory: String, serverSettings: [String: String] = [:], binaries: PostgresBinaries? = nil) throws {
        self.dataDirectory = URL(fileURLWithPath: dataDirectory).standardizedFileURL.path
        self.serverSettings = serverSettings
        self.binaries = try binaries ?? PostgresBinaries.locate()
        self.serverUser = geteuid() == 0 ? "postgres" : nil
    }

    /// The default data folder: `DOCKET_DATA_DIR`, else `.docket` under the working directory.
    public static func defaultDataDirectory(environment: [String: String] = ProcessInfo.processInfo.environment) -> String {
        if let configured = environment["DOCKET_DATA_DIR"], !configured.isEmpty { return configured }
        return FileManager.default.currentDirectoryPath + "/.docket"
    }

    /// A running server's pid, socket and port.
    public struct Running: Sendable, Hashable {
        public var pid: Int32
        public var port: Int
        public var socketDirectory: String
        public var dataDirectory: String

        public var endpoint: DatabaseEndpoint {
            DatabaseEndpoint(
                address: .socket(path: "\(socketDirectory)/.s.PGSQL.\(port)"),
                username: EmbeddedPostgres.username,
                database: EmbeddedPostgres.databaseName
            )
        }
    }

    public enum State: Sendable, Hashable {
        case notInitialized
        case stopped
        case running(Running)
    }

    /// Whether the server exists and runs, without changing anything.
    public func state() throws -> State {
        guard let layout = try existingLayout(), FileManager.default.fileExists(atPath: layout.pgdata + "/PG_VERSION") else {
            return .notInitialized
        }
        return running(layout).map(State.running) ?? .stopped
    }

    /// Initialises the server on first use and starts it unless it runs; returns how to reach it.
    public func start() async throws -> Running {
        try await offloaded { try self.startBlocking() }
    }

    /// Stops the server if it runs (fast shutdown: sessions are ended, nothing is lost); returns whether it ran.
    @discardableResult
    public func stop() async throws -> Bool {
        try await offloaded { try self.stopBlocking() }
    }

    /// `start()`, blocking the calling thread.
    public func startBlocking() throws -> Running {
        try prepareDataDirectory()
        return try FileLock(path: dataDirectory + "/postgres.lock").withLock {
            let layout = try resolveLayout()
            if let running = running(layout) { return running }
            if !FileManager.default.fileExists(atPath: layout.pgdata + "/PG_VERSION") {
                try initialise(layout)
            }
            return try launch(layout)
        }
    }

    /// `stop()`, blocking the calling thread.
    @discardableResult
    public func stopBlocking() throws -> Bool {
        guard FileManager.default.fileExists(atPath: dataDirectory) else { return false }
        return try FileLock(path: dataDirectory + "/postgres.lock").withLock {
            guard let layout = try existingLayout(), running(layout) != nil else { return false }
            try serverCommand("pg_ctl", ["stop", "-D", layout.pgdata, "-m", "fast", "-w", "-t", "60"])
                .check("stopping PostgreSQL in \(layout.pgdata)")
            return true
        }
    }

    // MARK: - Steps

    func prepareDataDirectory() throws {
        // As root, the folder must be traversable (not listable) by the server's user to reach its own files inside.
        let mode = serverUser == nil ? 0o700 : 0o711
        do {
            try FileManager.default.createDirectory(
                atPath: dataDirectory, withIntermediateDirectories: true, attributes: [.posixPermissions: mode])
        } catch {
            throw DocketError(.unavailable, "cannot create data folder \(dataDirectory): \(error.localizedDescription)")
        }
    }

    private func initialise(_ layout: Layout) throws {
        try serverCommand("initdb", [
            "-D", layout.pgdata, "-U", Self.username, "--auth=trust", "-E", "UTF8", "--no-locale", "--no-instructions",
        ]).check("initdb in \(layout.pgdata)")
        // The port only names the socket file (no TCP listener), and it stays the same across restarts, so clients
        // that know the socket path reconnect by themselves after the server comes back.
        let settings = """

            # Added by docket: a private server reached only through its own unix socket.
            listen_addresses = ''
            unix_socket_permissions = 0700
            max_connections = 200
            port = \(try FreePort.find())
            """
        guard let handle = FileHandle(forWritingAtPath: layout.pgdata + "/postgresql.conf") else {
            throw DocketError(.unavailable, "cannot write \(layout.pgdata)/postgresql.conf")
        }
        defer { try? handle.close() }
        handle.seekToEndOfFile()
        handle.write(Data(settings.utf8))
    }

    private func launch(_ layout: Layout) throws -> Running {
        var options = ["-k \(layout.socketDirectory)"]
        for (name, value) in serverSettings.sorted(by: { $0.key < $1.key }) {
            options.append("-c \(name)=\(value)")
        }
        let output = try serverCommand("pg_ctl", [
            "start", "-D", layout.pgdata, "-l", layout.logFile, "-w", "-t", "60", "-o", options.joined(separator: " "),
        ]).run()
        guard output.status == 0, let running = running(layout) else {
            let log = (try? String(contentsOfFile: layout.logFile, encoding: .utf8)) ?? ""
            let tail = log.split(separator: "\n").suffix(15).joined(separator: "\n")
            throw DocketError(.unavailable, "PostgreSQL in \(layout.pgdata) did not start: "
                + output.text.trimmingWhitespace() + "\n--- \(layout.logFile) ---\n" + tail)
        }
        return running
    }

    /// The server described by `postmaster.pid`, when its process is alive and ready.
    private func running(_ layout: Layout) -> Running? {
        guard let text = try? String(contentsOfFile: layout.pgdata + "/postmaster.pid", encoding: .utf8) else {
            return nil
        }
        let lines = text.split(separator: "\n", omittingEmptySubsequences: false).map {
            $0.trimmingCharacters(in: .whitespaces)
        }
        guard lines.count >= 8, let pid = Int32(lines[0]), let port = Int(lines[3]), kill(pid, 0) == 0 || errno == EPERM,
              lines[7] == "ready" else { return nil }
        return Running(pid: pid, port: port, socketDirectory: lines[4], dataDirectory: layout.pgdata)
    }

    func serverCommand(_ program: String, _ arguments: [String]) -> Command {
        Command(executable: binaries.path(program), arguments: arguments, user: serverUser)
    }
}

extension EmbeddedPostgres {
    /// Stops the server at once without a checkpoint (for throwaway test servers); returns whether it ran.
    @discardableResult
    public func stopImmediately() async throws -> Bool {
        try await offloaded { try self.stopImmediatelyBlocking() }
    }

    /// `stopImmediately()`, blocking the calling thread (for `atexit`).
    @discardableResult
    public func stopImmediatelyBlocking() throws -> Bool {
        guard let layout = try existingLayout(), running(layout) != nil else { return false }
        try serverCommand("pg_ctl", ["stop", "-D", layout.pgdata, "-m", "immediate", "-w", "-t", "30"])
            .check("stopping PostgreSQL in \(layout.pgdata)")
        return true
    }
}
