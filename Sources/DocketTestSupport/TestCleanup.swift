import DocketPostgres
import Foundation
import Synchronization

/// Stops the test run's PostgreSQL when the test process ends, however it ends.
enum TestCleanup {
    private static let target = Mutex<(server: EmbeddedPostgres, folder: String)?>(nil)

    /// Arms an `atexit` handler and a watchdog process for `server`.
    static func register(server: EmbeddedPostgres, running: EmbeddedPostgres.Running) {
        target.withLock { $0 = (server, server.dataDirectory) }
        atexit { TestCleanup.stopNow() }
        startWatchdog(server: server, running: running)
    }

    /// Stops the server and removes its folder; runs at normal process exit (failed tests included).
    static func stopNow() {
        guard let (server, folder) = target.withLock({ current -> (EmbeddedPostgres, String)? in
            defer { current = nil }
            return current
        }) else { return }
        _ = try? server.stopImmediately()
        try? FileManager.default.removeItem(atPath: folder)
    }

    /// A shell loop that outlives a crashed test process and then stops the server (pid-checked, so it stops ours).
    private static func startWatchdog(server: EmbeddedPostgres, running: EmbeddedPostgres.Running) {
        let me = getpid()
        let script = """
            while kill -0 \(me) 2>/dev/null; do sleep 1; done
            if [ -f '\(running.dataDirectory)/postmaster.pid' ] && [ "$(head -1 '\(running.dataDirectory)/postmaster.pid')" = '\(running.pid)' ]; then
              kill -QUIT \(running.pid) 2>/dev/null
            fi
            sleep 1; rm -rf '\(server.dataDirectory)'
            """
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/bin/sh")
        process.arguments = ["-c", script]
        process.standardInput = FileHandle.nullDevice
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try? process.run()
    }
}
