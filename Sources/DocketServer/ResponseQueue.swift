import Synchronization

/// Response lines waiting to be written to one connection, bounded in bytes.
///
/// The writer takes everything pending at once and writes it with one flush; the bytes count until that write has
/// gone out. The reader waits for `room()` before taking another request line, and pushed events wait in `pushPaced`,
/// so a client that stops reading stops docketd reading it too, instead of growing this queue.
final class ResponseQueue: Sendable {
    private struct State {
        var pending: [[UInt8]] = []
        /// Bytes pending plus bytes taken by the writer and not yet written.
        var bytes = 0
        var waiter: CheckedContinuation<[[UInt8]]?, Never>?
        var finished = false
        var roomWaiters: [CheckedContinuation<Void, Never>] = []
    }

    private let state = Mutex(State())
    /// Bytes past which the reader and the pushers wait.
    let limit: Int

    init(limit: Int) { self.limit = limit }

    /// Waits until fewer than `limit` bytes are waiting (at once when the connection is finished).
    func room() async {
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            let ready = state.withLock { state -> Bool in
                if state.finished || state.bytes < limit { return true }
                state.roomWaiters.append(continuation)
                return false
            }
            if ready { continuation.resume() }
        }
    }

    /// Queues a pushed line once there is room (dropped when the connection is finished).
    func pushPaced(_ line: [UInt8]) async {
        await room()
        push(line)
    }

    func push(_ line: [UInt8]) {
        let resume = state.withLock { state -> (CheckedContinuation<[[UInt8]]?, Never>, [[UInt8]])? in
            guard !state.finished else { return nil }
            state.bytes += line.count
            if let waiter = state.waiter {
                state.waiter = nil
                return (waiter, [line])
            }
            state.pending.append(line)
            return nil
        }
        if let (waiter, batch) = resume { waiter.resume(returning: batch) }
    }

    /// The writer has written `count` bytes of what it took.
    func written(_ count: Int) {
        let rooms = state.withLock { state -> [CheckedContinuation<Void, Never>] in
            state.bytes -= count
            guard state.bytes < limit else { return [] }
            defer { state.roomWaiters = [] }
            return state.roomWaiters
        }
        for room in rooms { room.resume() }
    }

    /// No more responses will come; the writer ends after what is pending, and every waiter is let go.
    func finish() {
        let (waiter, rooms) = state.withLock { state -> (CheckedContinuation<[[UInt8]]?, Never>?, [CheckedContinuation<Void, Never>]) in
            state.finished = true
            defer { state.waiter = nil; state.roomWaiters = [] }
            return (state.pending.isEmpty ? state.waiter : nil, state.roomWaiters)
        }
        waiter?.resume(returning: nil)
        for room in rooms { room.resume() }
    }

    /// The connection is gone: drop what is pending and let everyone go.
    func abandon() {
        let (waiter, rooms) = state.withLock { state -> (CheckedContinuation<[[UInt8]]?, Never>?, [CheckedContinuation<Void, Never>]) in
            state.finished = true
            state.pending = []
            state.bytes = 0
            defer { state.waiter = nil; state.roomWaiters = [] }
            return (state.waiter, state.roomWaiters)
        }
        waiter?.resume(returning: nil)
        for room in rooms { room.resume() }
    }

    /// Everything pending, waiting for at least one line; nil once finished and drained.
    func next() async -> [[UInt8]]? {
        await withCheckedContinuation { (continuation: CheckedContinuation<[[UInt8]]?, Never>) in
            let ready = state.withLock { state -> [[UInt8]]?? in
                if !state.pending.isEmpty {
                    defer { state.pending.removeAll(keepingCapacity: true) }
                    return .some(state.pending)
                }
                if state.finished { return .some(nil) }
                state.waiter = continuation
                return nil
            }
            if let ready { continuation.resume(returning: ready) }
        }
    }

    /// Bytes waiting to be written now.
    var waitingBytes: Int { state.withLock { $0.bytes } }
}
