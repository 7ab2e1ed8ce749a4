import DocketPostgres
import Foundation
import Synchronization

/// Stops the test run's PostgreSQL when the test process ends, however it ends.
enum TestCleanup {
    private static let target = Mutex<EmbeddedPostgres?>(nil)

    /// Arms an `atexit` handler and a watchdog process for `server`.
    static func register(server: EmbeddedPostgres, running: EmbeddedPostgres.Running) {
        target.withLock { $0 = server }
        atexit { TestCleanup.stopNow() }
        startWatchdog(server: server, running: running)
    }

    /// Stops the server and removes its folder; runs at normal process exit (failed tests included).
    static func stopNow() {
        guard let server = target.withLock({ current -> EmbeddedPostgres? in
            defer { current = nil }
            return current
        }) else { return }
        _ = try? server.stopImmediatelyBlocking()
        server.removeFiles()
    }

    /// A shell loop that outlives a crashed test process and then stops the server (pid-checked, so it stops ours).
    private static func startWatchdog(server: EmbeddedPostgres, running: EmbeddedPostgres.Running) {
        let me = getpid()
        let script = """
            while kill -0 \(me) 2>/dev/null; do sleep 1; done
            if [ -f '\(running.dataDirectory)/postmaster.pid' ] && [ "$(head -1 '\(running.dataDirectory)/postmaster.pid')" = '\(running.pid)' ]; then
              kill -QUIT \(running.pid) 2>/dev/null
            fi
            sleep 1; rm -rf '\(server.dataDirectory)' '\(URL(fileURLWithPath: running.dataDirectory).deletingLastPathComponent().path)'
            """
        try? Command(executable: "/bin/sh", arguments: ["-c", script]).launchDetached()
    }
}
