import DocketCore
import DocketPostgres
import Logging
import PostgresNIO
import ServiceLifecycle
import Synchronization

/// Sends the coalesced cross-instance wake-up after local commits that wrote events (SPEC 4.4): write transactions
/// never NOTIFY themselves (a NOTIFY serialises every notifying commit), and at most one NOTIFY leaves this instance
/// per `spacing`. It has its own connection, so a busy request pool never delays a wake-up; a wake-up lost in a crash
/// or while that connection is down is covered by every listener's periodic poll.
public final class WakeupNotifier: Service, Sendable {
    let endpoint: DatabaseEndpoint
    let logger: Logger
    let signal = WakeSignal()
    let spacing: Duration
    let deadline: Duration = .seconds(2)
    /// This instance's listener, left out when looking for others to wake.
    let ownListener: String
    /// How often to look whether any other instance listens (no one to wake: no NOTIFY at all).
    let lookEvery: Duration = .seconds(2)
    private let stopping = Mutex(false)
    private let sent = Mutex(0)

    public init(endpoint: DatabaseEndpoint, ownListener: String, logger: Logger, spacing: Duration = .milliseconds(5)) {
        self.endpoint = endpoint
        self.ownListener = ownListener
        self.logger = logger
        self.spacing = spacing
    }

    /// Called after a commit that wrote events; returns at once.
    public func committed() { signal.fire() }

    public var notificationsSent: Int { sent.withLock { $0 } }

    public func run() async throws {
        await withGracefulShutdownHandler {
            // Connected up front, so the first wake-up does not wait for a connection to open.
            var connection: PostgresConnection? = try? await self.endpoint.connect(logger: self.logger)
            let clock = ContinuousClock()
            var others = (count: 1, checked: clock.now - self.lookEvery)
            // Stopped by a graceful shutdown, or by cancellation (every wait below returns at once then).
            while !self.stopping.withLock({ $0 }), !Task.isCancelled {
                guard await self.signal.wait(upTo: .seconds(1)), !self.stopping.withLock({ $0 }) else { continue }
                do {
                    if connection == nil || connection?.isClosed == true {
                        try? await connection?.close()
                        connection = try await self.endpoint.connect(logger: self.logger)
                    }
                    guard let open = connection else { continue }
                    let logger = self.logger, own = self.ownListener
                    if clock.now - others.checked >= self.lookEvery {
                        // A listener that connects meanwhile catches up on its own poll within a second.
                        let count = try await open.withDeadline(self.deadline) {
                            try await EventQueries(open, logger: logger).otherListeners(than: own)
                        }
                        others = (count ?? 1, clock.now)
                    }
                    guard others.count > 0 else { continue }
                    if try await open.withDeadline(self.deadline, { try await EventQueries(open, logger: logger).notify() }) != nil {
                        self.sent.withLock { $0 += 1 }
                    }
                } catch {
                    // The database is away: the listeners' reconnect and poll catch up anyway.
                    try? await connection?.close()
                    connection = nil
                    try? await Task.sleep(for: .milliseconds(200))
                }
                try? await Task.sleep(for: self.spacing)
            }
            try? await connection?.close()
        } onGracefulShutdown: {
            self.stopping.withLock { $0 = true }
            self.signal.fire()
        }
    }
}
