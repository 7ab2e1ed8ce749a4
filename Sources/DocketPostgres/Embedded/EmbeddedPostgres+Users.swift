import DocketCore
import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Who uses a data folder's server, so the last one to leave can stop it.
///
/// A process that reaches the server through the folder (a docketd without `--database-url`) joins by writing its pid
/// under `users/`; when it exits it leaves, and if no live user is left the server is stopped — unless
/// `docket db start` started it on purpose (`postgres.kept`), in which case it runs until `docket db stop`. A user
/// killed without leaving is pruned by the next one to leave (its pid is no longer alive).
extension EmbeddedPostgres {
    private var usersFolder: String { dataDirectory + "/users" }
    private var keptMarker: String { dataDirectory + "/postgres.kept" }

    /// Records `pid` as a user of the server.
    public func join(pid: Int32 = getpid()) throws {
        try prepareDataDirectory()
        try FileLock(path: dataDirectory + "/postgres.lock").withLock {
            try FileManager.default.createDirectory(atPath: usersFolder, withIntermediateDirectories: true)
            try Data().write(to: URL(fileURLWithPath: usersFolder + "/\(pid)"))
        }
    }

    /// Removes `pid` from the users; stops the server when no live user is left and it is not kept. Returns whether
    /// it stopped the server.
    @discardableResult
    public func leave(pid: Int32 = getpid()) async throws -> Bool {
        try await offloaded { try self.leaveBlocking(pid: pid) }
    }

    /// Whether the server keeps running with no user (`docket db start` sets it, `docket db stop` clears it).
    public func keep(_ kept: Bool) throws {
        try prepareDataDirectory()
        if kept {
            try Data("started by docket db start\n".utf8).write(to: URL(fileURLWithPath: keptMarker))
        } else if FileManager.default.fileExists(atPath: keptMarker) {
            try FileManager.default.removeItem(atPath: keptMarker)
        }
    }

    /// The live users' pids.
    public func users() -> [Int32] {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: usersFolder)) ?? []
        return names.compactMap(Int32.init).filter(Self.isAlive).sorted()
    }

    private func leaveBlocking(pid: Int32) throws -> Bool {
        guard FileManager.default.fileExists(atPath: dataDirectory) else { return false }
        let last = try FileLock(path: dataDirectory + "/postgres.lock").withLock { () -> Bool in
            try? FileManager.default.removeItem(atPath: usersFolder + "/\(pid)")
            let names = (try? FileManager.default.contentsOfDirectory(atPath: usersFolder)) ?? []
            for name in names {
                guard let other = Int32(name), !Self.isAlive(other) else { continue }
                try? FileManager.default.removeItem(atPath: usersFolder + "/\(name)")
            }
            return users().isEmpty && !FileManager.default.fileExists(atPath: keptMarker)
        }
        // Stopping takes the lock itself; a user joining in between finds the server gone and starts it again.
        return last ? try stopBlocking() : false
    }

    private static func isAlive(_ pid: Int32) -> Bool { kill(pid, 0) == 0 || errno == EPERM }
}
