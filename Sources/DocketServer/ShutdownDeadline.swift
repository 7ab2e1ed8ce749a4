import Foundation
import Logging
import ServiceLifecycle

/// Bounds how long the end of the process may take: once SIGTERM (or SIGINT) starts a graceful shutdown, or a failing
/// service cancels the group, a process still alive `limit` later exits at once with status 1, whatever part of it is
/// stuck.
///
/// The service group cancels services that outlive the shutdown grace; this is the floor under that, for work that
/// ignores cancellation. Only the executable runs it: a test that starts the daemon in-process leaves it out.
public struct ShutdownDeadline: Service {
    /// Added to the shutdown grace (docs/configuration.md): how long cancelled services get before the hard exit.
    public static let hardLimit: Duration = .seconds(5)

    let limit: Duration
    let logger: Logger

    public init(limit: Duration, logger: Logger) {
        self.limit = limit
        self.logger = logger
    }

    public func run() async throws {
        // Returns when a graceful shutdown begins and throws when the group is cancelled instead: either way the
        // process is ending, and a child that ignores cancellation must not keep it alive.
        try? await gracefulShutdown()
        let seconds = limit.inSeconds
        let logger = self.logger
        Thread.detachNewThread {
            Thread.sleep(forTimeInterval: seconds)
            logger.critical("graceful shutdown took longer than \(seconds) s: exiting now")
            _exit(1)
        }
    }
}
