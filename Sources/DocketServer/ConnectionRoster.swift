import NIOCore
import Synchronization

/// The open client connections: which have authenticated, which have not (and since when), and each channel, so
/// graceful shutdown can half-close them all.
///
/// Authenticated connections are bounded by `maxConnections`: a connection arriving while that many are open is
/// refused. Connections still authenticating have a budget of their own, `maxUnauthenticated`: a new one past it
/// closes the oldest of them, so idle connections that never authenticate cannot lock real clients out.
final class ConnectionRoster: Sendable {
    enum Admission {
        case admitted(evicted: (any Channel)?)
        case full
    }

    private struct Entry {
        let channel: any Channel
        let since: ContinuousClock.Instant
        var authenticated = false
    }

    private struct State {
        var entries: [ObjectIdentifier: Entry] = [:]
        var authenticated = 0
        var unauthenticated = 0
        var evicted = 0
    }

    let maxConnections: Int
    let maxUnauthenticated: Int
    private let state = Mutex(State())

    init(maxConnections: Int, maxUnauthenticated: Int) {
        self.maxConnections = maxConnections
        self.maxUnauthenticated = maxUnauthenticated
    }

    /// Takes a new connection in, closing the oldest unauthenticated one when their budget is spent.
    func admit(_ channel: any Channel) -> Admission {
        let admission = state.withLock { state -> Admission in
            guard state.authenticated < maxConnections else { return .full }
            var evicted: (any Channel)?
            if state.unauthenticated >= maxUnauthenticated,
               let oldest = state.entries.filter({ !$0.value.authenticated }).min(by: { $0.value.since < $1.value.since }) {
                state.entries[oldest.key] = nil
                state.unauthenticated -= 1
                state.evicted += 1
                evicted = oldest.value.channel
            }
            state.entries[ObjectIdentifier(channel)] = Entry(channel: channel, since: .now)
            state.unauthenticated += 1
            return .admitted(evicted: evicted)
        }
        if case .admitted(let evicted?) = admission { evicted.close(promise: nil) }
        return admission
    }

    /// Moves a connection to the authenticated ones; false when `maxConnections` are authenticated already.
    func authenticate(_ channel: any Channel) -> Bool {
        state.withLock { state in
            let key = ObjectIdentifier(channel)
            guard var entry = state.entries[key] else { return false }  // evicted meanwhile
            if entry.authenticated { return true }
            guard state.authenticated < maxConnections else { return false }
            entry.authenticated = true
            state.entries[key] = entry
            state.authenticated += 1
            state.unauthenticated -= 1
            return true
        }
    }

    func remove(_ channel: any Channel) {
        state.withLock { state in
            guard let entry = state.entries.removeValue(forKey: ObjectIdentifier(channel)) else { return }
            if entry.authenticated { state.authenticated -= 1 } else { state.unauthenticated -= 1 }
        }
    }

    var channels: [any Channel] { state.withLock { $0.entries.values.map(\.channel) } }

    /// Authenticated and unauthenticated connections now, and how many unauthenticated ones were closed to make room.
    var counts: (authenticated: Int, unauthenticated: Int, evicted: Int) {
        state.withLock { ($0.authenticated, $0.unauthenticated, $0.evicted) }
    }
}
