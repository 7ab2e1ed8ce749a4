import Synchronization

/// Counts the open connections against the configured maximum.
final class ConnectionCounter: Sendable {
    private let open = Mutex(0)
    let limit: Int

    init(limit: Int) { self.limit = limit }

    /// Takes a place; false when the server is full.
    func enter() -> Bool {
        open.withLock { count in
            guard count < limit else { return false }
            count += 1
            return true
        }
    }

    func leave() { open.withLock { $0 -= 1 } }

    var current: Int { open.withLock { $0 } }
}

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

/// Responses waiting to be written: the writer takes everything pending at once and writes it with one flush.
///
/// Pushed events go through `pushPaced`, which waits while `pacedLimit` lines are pending: a client that does not read
/// stalls its subscriptions' delivery (their bounded mailboxes then overflow) instead of growing this queue.
final class ResponseQueue: Sendable {
    private struct State {
        var pending: [[UInt8]] = []
        var waiter: CheckedContinuation<[[UInt8]]?, Never>?
        var finished = false
        var roomWaiters: [CheckedContinuation<Void, Never>] = []
    }

    private let state = Mutex(State())
    let pacedLimit = 256

    /// Queues a pushed line once fewer than `pacedLimit` lines are pending (dropped when the connection is finished).
    func pushPaced(_ line: [UInt8]) async {
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            let room = state.withLock { state -> Bool in
                if state.finished || state.pending.count < pacedLimit { return true }
                state.roomWaiters.append(continuation)
                return false
            }
            if room { continuation.resume() }
        }
        push(line)
    }

    func push(_ line: [UInt8]) {
        let resume = state.withLock { state -> (CheckedContinuation<[[UInt8]]?, Never>, [[UInt8]])? in
            guard !state.finished else { return nil }
            if let waiter = state.waiter {
                state.waiter = nil
                return (waiter, [line])
            }
            state.pending.append(line)
            return nil
        }
        if let (waiter, batch) = resume { waiter.resume(returning: batch) }
    }

    /// No more responses will come; the writer ends after what is pending.
    func finish() {
        let (waiter, rooms) = state.withLock { state -> (CheckedContinuation<[[UInt8]]?, Never>?, [CheckedContinuation<Void, Never>]) in
            state.finished = true
            defer { state.waiter = nil; state.roomWaiters = [] }
            return (state.pending.isEmpty ? state.waiter : nil, state.roomWaiters)
        }
        waiter?.resume(returning: nil)
        for room in rooms { room.resume() }
    }

    /// Everything pending, waiting for at least one line; nil once finished and drained.
    func next() async -> [[UInt8]]? {
        await withCheckedContinuation { (continuation: CheckedContinuation<[[UInt8]]?, Never>) in
            let (ready, rooms) = state.withLock { state -> ([[UInt8]]??, [CheckedContinuation<Void, Never>]) in
                if !state.pending.isEmpty {
                    defer {
                        state.pending.removeAll(keepingCapacity: true)
                        state.roomWaiters = []
                    }
                    return (.some(state.pending), state.roomWaiters)
                }
                if state.finished { return (.some(nil), []) }
                state.waiter = continuation
                return (nil, [])
            }
            for room in rooms { room.resume() }
            if let ready { continuation.resume(returning: ready) }
        }
    }
}
