import DocketCore
import Foundation
#if canImport(Glibc)
import Glibc
#endif

extension EmbeddedPostgres {
    /// Where the server's files live: its data cluster, socket folder and log.
    struct Layout {
        var root: String
        var pgdata: String { root + "/data" }
        var logFile: String { root + "/server.log" }
        var socketDirectory: String
    }

    private var pointerFile: String { dataDirectory + "/postgres.location" }

    /// The layout of an existing server, or nil when this data folder has none yet.
    func existingLayout() throws -> Layout? {
        let root = (try? String(contentsOfFile: pointerFile, encoding: .utf8))?.trimmingWhitespace()
            ?? dataDirectory + "/postgres"
        guard FileManager.default.fileExists(atPath: root) else { return nil }
        return Layout(root: root, socketDirectory: socketDirectory(for: root))
    }

    /// The layout to use, creating its folders with the right owner; moves out of reach of nothing.
    func resolveLayout() throws -> Layout {
        if let existing = try existingLayout() { return existing }
        var root = dataDirectory + "/postgres"
        if let user = serverUser, !canReach(dataDirectory, as: user) {
            root = "/var/tmp/docket-postgres/" + Self.shortHash(dataDirectory)
            try makeFolder("/var/tmp/docket-postgres", mode: 0o1777, owner: nil)
            try Data((root + "\n").utf8).write(to: URL(fileURLWithPath: pointerFile))
        }
        try makeFolder(root, mode: 0o700, owner: serverUser)
        let layout = Layout(root: root, socketDirectory: socketDirectory(for: root))
        try makeFolder(layout.socketDirectory, mode: 0o700, owner: serverUser)
        return layout
    }

    /// The socket folder: `<root>/run`, or a short folder under /tmp when that path is too long for a socket.
    private func socketDirectory(for root: String) -> String {
        let preferred = root + "/run"
        // sun_path holds 107 bytes; ".s.PGSQL.65535" takes 15 of them.
        return preferred.utf8.count + 15 <= 100 ? preferred : "/tmp/docket-" + Self.shortHash(root)
    }

    private func canReach(_ path: String, as user: String) -> Bool {
        (try? Command(executable: "/usr/bin/test", arguments: ["-x", path], user: user).run().status) == 0
    }

    private func makeFolder(_ path: String, mode: Int, owner: String?) throws {
        do {
            try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
            try FileManager.default.setAttributes([.posixPermissions: mode], ofItemAtPath: path)
            if let owner {
                try FileManager.default.setAttributes([.ownerAccountName: owner, .groupOwnerAccountName: owner],
                                                      ofItemAtPath: path)
            }
        } catch {
            throw DocketError(.unavailable, "cannot prepare \(path): \(error.localizedDescription)")
        }
    }

    static func shortHash(_ text: String) -> String {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in text.utf8 { hash = (hash ^ UInt64(byte)) &* 0x0000_0100_0000_01b3 }
        return String(hash, radix: 16)
    }
}

extension EmbeddedPostgres {
    /// Deletes the data folder and the server's files wherever they are (the server must be stopped).
    public func removeFiles() {
        if let layout = try? existingLayout(), !layout.root.hasPrefix(dataDirectory + "/") {
            try? FileManager.default.removeItem(atPath: layout.root)
        }
        try? FileManager.default.removeItem(atPath: dataDirectory)
    }
}
