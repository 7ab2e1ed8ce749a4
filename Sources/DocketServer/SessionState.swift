import DocketCore
import NIOCore
import Synchronization

/// What one connection's session knows between requests: who authenticated, how many `auth`s failed, its
/// subscriptions, and work to start once an answer is out (a subscription's deliveries follow its answer).
final class SessionState: Sendable {
    private struct State {
        var actor: Principal?
        var failedAuths = 0
        var closing = false
        var afterAnswer: [@Sendable () async -> Void] = []
    }

    let events: EventSession
    let responses: ResponseQueue
    let channel: any Channel
    let roster: ConnectionRoster
    let maxFailedAuths: Int
    private let state = Mutex(State())

    init(events: EventSession, responses: ResponseQueue, channel: any Channel, roster: ConnectionRoster, maxFailedAuths: Int) {
        self.events = events
        self.responses = responses
        self.channel = channel
        self.roster = roster
        self.maxFailedAuths = maxFailedAuths
    }

    var actor: Principal? { state.withLock { $0.actor } }

    /// The connection is to close once its answer is out.
    var isClosing: Bool { state.withLock { $0.closing } }

    /// `auth` succeeded: the connection now acts as `actor`, unless the server has its most authenticated clients.
    func authenticated(_ actor: Principal) throws(DocketError) {
        guard roster.authenticate(channel) else {
            state.withLock { $0.closing = true }
            throw DocketError(.rateLimited,
                "the server has \(roster.maxConnections) authenticated connections, its maximum; try again later")
        }
        state.withLock { $0.actor = actor }
    }

    /// `auth` failed: after `maxFailedAuths` of them the connection closes.
    func authFailed() {
        state.withLock { state in
            state.failedAuths += 1
            if state.failedAuths >= maxFailedAuths { state.closing = true }
        }
    }

    /// Runs `work` once the current answer has been queued.
    func afterAnswer(_ work: @escaping @Sendable () async -> Void) { state.withLock { $0.afterAnswer.append(work) } }

    func takeAfterAnswer() -> [@Sendable () async -> Void] {
        state.withLock { state in
            defer { state.afterAnswer = [] }
            return state.afterAnswer
        }
    }
}
