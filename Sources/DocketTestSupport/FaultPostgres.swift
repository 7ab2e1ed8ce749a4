import DocketCore
import DocketPostgres
import Foundation
import Logging
import PostgresNIO

/// A PostgreSQL server of one test's own, for injecting faults into it: kill -9, freeze, terminate backends, fill
/// its disk. Started by the project's launcher in a throwaway folder (optionally on a small tmpfs of its own).
public final class FaultPostgres: Sendable {
    public let server: EmbeddedPostgres
    public let folder: String
    /// The tmpfs mounted under `folder`, when the server's disk is to be filled.
    let mountPoint: String?
    let logger = Logger(label: "docket.fault-postgres")

    /// A fresh server in a folder of its own; with `diskMegabytes`, on a tmpfs of that size (needs root).
    public init(diskMegabytes: Int? = nil) async throws {
        folder = "/tmp/docket-fault-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        if let diskMegabytes {
            let mount = try await Command(executable: "/bin/mount", arguments: [
                "-t", "tmpfs", "-o", "size=\(diskMegabytes)m,mode=0711", "tmpfs", folder]).runAsync()
            guard mount.status == 0 else {
                throw DocketError(.internal, "cannot mount a tmpfs for the disk-full test (it needs root): \(mount.text)")
            }
            mountPoint = folder
        } else {
            mountPoint = nil
        }
        // Durable commits (an answered create must survive kill -9); fsync is off: the machine itself does not crash.
        server = try EmbeddedPostgres(dataDirectory: folder + "/pg", serverSettings: ["fsync": "off", "max_connections": "200"])
        TestCleanup.register(server: server, running: try await server.start())
    }

    /// The endpoint of its `docket` database.
    public func endpoint() async throws -> DatabaseEndpoint { try await server.ensureRunning(logger: logger) }

    /// The postmaster and every process it forked.
    public func processes() throws -> [Int32] {
        guard case .running(let running) = try server.state() else { return [] }
        return [running.pid] + Self.children(of: running.pid)
    }

    static func children(of parent: Int32) -> [Int32] {
        let entries = (try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? []
        return entries.compactMap(Int32.init).filter { pid in
            guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
                  let close = stat.lastIndex(of: ")") else { return false }
            let fields = stat[stat.index(after: close)...].split(separator: " ")
            return fields.count > 2 && Int32(fields[1]) == parent
        }
    }

    /// kill -9 of the postmaster, then of whatever it left behind; returns once all are gone.
    public func killNine() async throws {
        guard case .running(let running) = try server.state() else { return }
        let children = Self.children(of: running.pid)
        kill(running.pid, SIGKILL)
        _ = try await eventually(.seconds(5), every: .milliseconds(20)) { kill(running.pid, 0) != 0 ? true : nil }
        for child in children { kill(child, SIGKILL) }
        _ = try await eventually(.seconds(10), every: .milliseconds(20)) {
            children.allSatisfy { kill($0, 0) != 0 } ? true : nil
        }
    }

    /// SIGSTOP (or SIGCONT) to every process of the server: it keeps its sockets and answers nothing.
    public func freeze(_ frozen: Bool) throws {
        let pids = try processes()
        for pid in frozen ? pids.reversed() : pids { kill(pid, frozen ? SIGSTOP : SIGCONT) }
    }

    /// Starts it again after a crash; returns when it accepts connections.
    public func restart() async throws {
        _ = try await server.start()
    }

    /// `pg_terminate_backend` of every client backend of `database` but the caller's own; returns how many.
    @discardableResult
    public func terminateBackends(of database: String) async throws -> Int {
        let admin = try await endpoint().with(database: "postgres")
        return try await admin.withConnection(logger: logger) { connection in
            let rows = try await connection.query("""
                SELECT count(*) FILTER (WHERE pg_terminate_backend(pid))::int FROM pg_stat_activity
                WHERE datname = \(database) AND backend_type = 'client backend' AND pid <> pg_backend_pid()
                """, logger: logger).collect()
            return try rows.first?.decode(Int.self) ?? 0
        }
    }

    /// Fills the server's disk with a file until no byte is left; `release()` deletes it.
    public func fillDisk() throws {
        guard mountPoint != nil else { throw DocketError(.internal, "this server has no disk of its own to fill") }
        let path = folder + "/filler"
        guard let handle = FileHandle(forWritingAtPath: path) ?? {
            _ = FileManager.default.createFile(atPath: path, contents: nil)
            return FileHandle(forWritingAtPath: path)
        }() else { throw DocketError(.internal, "cannot create \(path)") }
        let chunk = Data(count: 1 << 20)
        while (try? handle.write(contentsOf: chunk)) != nil {}
        // Then what a megabyte did not fit.
        let small = Data(count: 4096)
        while (try? handle.write(contentsOf: small)) != nil {}
        try? handle.close()
    }

    public func releaseDisk() throws {
        try FileManager.default.removeItem(atPath: folder + "/filler")
    }

    /// Stops the server, unmounts its disk and removes its files.
    public func destroy() async {
        _ = try? await server.stopImmediately()
        server.removeFiles()
        if let mountPoint {
            _ = try? await Command(executable: "/bin/umount", arguments: ["-l", mountPoint]).runAsync()
        }
        try? FileManager.default.removeItem(atPath: folder)
    }
}
