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
