import Synchronization

/// A single-consumer queue with a fixed capacity that never blocks its producer: an offer that finds it full closes
/// it instead (the subscriber could not keep up), and the consumer learns so once it has drained what was queued.
public final class BoundedMailbox<Element: Sendable>: Sendable {
    public enum Ending: Sendable, Equatable {
        /// Closed by its owner (unsubscribe, connection end, shutdown).
        case closed
        /// Closed because it was full when another element came.
        case overflowed
    }

    private struct State {
        var queue: [Element] = []
        var head = 0
        var ending: Ending?
        var waiter: CheckedContinuation<Element?, Never>?
    }

    private let state = Mutex(State())
    public let capacity: Int

    public init(capacity: Int) {
        precondition(capacity >= 1)
        self.capacity = capacity
    }

    /// Queues `element`; false when the mailbox is closed, or was full and is now closed as overflowed.
    @discardableResult
    public func offer(_ element: Element) -> Bool {
        let (waiter, accepted) = state.withLock { state -> (CheckedContinuation<Element?, Never>?, Bool) in
            guard state.ending == nil else { return (nil, false) }
            if let waiter = state.waiter {
                state.waiter = nil
                return (waiter, true)
            }
            guard state.queue.count - state.head < capacity else {
                state.ending = .overflowed
                return (nil, false)
            }
            state.queue.append(element)
            return (nil, true)
        }
        waiter?.resume(returning: element)
        return accepted
    }

    /// Ends the mailbox: the consumer gets what is queued, then nil.
    public func close() {
        let waiter = state.withLock { state -> CheckedContinuation<Element?, Never>? in
            if state.ending == nil { state.ending = .closed }
            defer { state.waiter = nil }
            return state.waiter
        }
        waiter?.resume(returning: nil)
    }

    /// The next element, waiting for one; nil once the mailbox has ended and is drained (see `ending`).
    public func next() async -> Element? {
        await withCheckedContinuation { (continuation: CheckedContinuation<Element?, Never>) in
            let ready = state.withLock { state -> Element?? in
                if state.head < state.queue.count {
                    let element = state.queue[state.head]
                    state.head += 1
                    if state.head == state.queue.count || state.head > 1024 {
                        state.queue.removeFirst(state.head)
                        state.head = 0
                    }
                    return .some(element)
                }
                if state.ending != nil { return .some(nil) }
                state.waiter = continuation
                return nil
            }
            if let ready { continuation.resume(returning: ready) }
        }
    }

    /// Why the mailbox ended, once it has.
    public var ending: Ending? { state.withLock { $0.ending } }

    /// Elements waiting.
    public var count: Int { state.withLock { $0.queue.count - $0.head } }
}

/// A wake-up flag for one waiting task: `fire()` wakes the waiter or, when none waits, the next `wait`.
public final class WakeSignal: Sendable {
    private struct State {
        var pending = false
        var waiter: CheckedContinuation<Bool, Never>?
        var generation = 0
    }

    private let state = Mutex(State())

    public init() {}

    public func fire() {
        let waiter = state.withLock { state -> CheckedContinuation<Bool, Never>? in
            guard let waiter = state.waiter else {
                state.pending = true
                return nil
            }
            state.waiter = nil
            return waiter
        }
        waiter?.resume(returning: true)
    }

    /// Returns true at the next `fire()` (at once if one came since the last wait), false after `limit` without one.
    @discardableResult
    public func wait(upTo limit: Duration) async -> Bool {
        let timer = Mutex<Task<Void, Never>?>(nil)
        let fired = await withCheckedContinuation { (continuation: CheckedContinuation<Bool, Never>) in
            let generation = state.withLock { state -> Int? in
                if state.pending {
                    state.pending = false
                    return nil
                }
                state.generation += 1
                state.waiter = continuation
                return state.generation
            }
            guard let generation else {
                continuation.resume(returning: true)
                return
            }
            timer.withLock {
                $0 = Task {
                    try? await Task.sleep(for: limit)
                    let waiter = self.state.withLock { state -> CheckedContinuation<Bool, Never>? in
                        guard state.generation == generation, let waiter = state.waiter else { return nil }
                        state.waiter = nil
                        return waiter
                    }
                    waiter?.resume(returning: false)
                }
            }
        }
        timer.withLock { $0?.cancel() }
        return fired
    }
}
