import Synchronization

/// Bounds the requests one connection has in progress: the reader waits for a free slot before taking the next line,
/// so a client that pipelines faster than we answer is slowed by TCP back-pressure rather than buffered without bound.
final class InFlightSlots: Sendable {
    private struct State {
        var free: Int
        var waiters: [CheckedContinuation<Void, Never>] = []
    }

    private let state: Mutex<State>
    private let total: Int

    init(_ count: Int) {
        state = Mutex(State(free: count))
        total = count
    }

    func acquire() async {
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            let ready = state.withLock { state -> Bool in
                if state.free > 0 {
                    state.free -= 1
                    return true
                }
                state.waiters.append(continuation)
                return false
            }
            if ready { continuation.resume() }
        }
    }

    func release() {
        let waiter = state.withLock { state -> CheckedContinuation<Void, Never>? in
            if state.waiters.isEmpty {
                state.free += 1
                return nil
            }
            return state.waiters.removeFirst()
        }
        waiter?.resume()
    }

    /// Whether any request is in progress.
    var inUse: Bool { state.withLock { $0.free < total || !$0.waiters.isEmpty } }
}
