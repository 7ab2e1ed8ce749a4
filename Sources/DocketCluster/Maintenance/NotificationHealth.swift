import Synchronization

/// Consecutive failed callback attempts, and whether they have reached the degraded threshold (seeds/003).
public final class NotificationHealth: Sendable {
    private let state = Mutex((failures: 0, degraded: false))

    public init() {}

    public func succeeded() { state.withLock { $0 = (0, false) } }

    public func failed(threshold: Int) {
        state.withLock { state in
            state.failures += 1
            if state.failures >= threshold { state.degraded = true }
        }
    }

    public var consecutiveFailures: Int { state.withLock { $0.failures } }
    public var isDegraded: Bool { state.withLock { $0.degraded } }
}
