import DocketCore
import Synchronization

/// The in-process side of the bus: receives events in `seq` order from the listener and hands each to every
/// subscriber whose filter admits it, through that subscriber's bounded mailbox (SPEC 4.4).
///
/// `position` is the last `seq` published: every event up to it has been offered to every subscriber registered at
/// the time, and nothing at or below it will be published again. A subscriber registered at position P receives
/// exactly the admitted events above P, in order, until it unsubscribes or overflows.
public final class EventHub: Sendable {
    public typealias SubscriberID = Int

    struct Subscriber {
        let filter: EventFilter
        let mailbox: BoundedMailbox<Event>
    }

    struct Watcher {
        let matches: @Sendable (Event) -> Bool
        let signal: WakeSignal
    }

    private struct State {
        var position: Int64?
        var subscribers: [SubscriberID: Subscriber] = [:]
        var watchers: [Watcher] = []
        var nextID = 1
    }

    private let state = Mutex(State())

    public init() {}

    /// The last `seq` published, once the listener has connected.
    public var position: Int64? { state.withLock { $0.position } }

    /// How many subscribers are registered.
    public var subscriberCount: Int { state.withLock { $0.subscribers.count } }

    /// Sets the starting position (the listener's first horizon); later calls are ignored.
    public func start(at position: Int64) {
        state.withLock { state in
            if state.position == nil { state.position = position }
        }
    }

    /// Publishes events in `seq` order; events at or below the position are ignored (never delivered twice).
    /// Returns the subscribers dropped because their mailbox was full.
    @discardableResult
    public func publish(_ events: [Event]) -> Int {
        var signals: [WakeSignal] = []
        let dropped = state.withLock { state -> Int in
            var dropped: Set<SubscriberID> = []
            for event in events {
                guard event.seq > state.position ?? Int64.min else { continue }
                state.position = event.seq
                for (id, subscriber) in state.subscribers where subscriber.filter.admits(event) {
                    if !subscriber.mailbox.offer(event) {
                        dropped.insert(id)
                        state.subscribers[id] = nil
                    }
                }
                for watcher in state.watchers where watcher.matches(event) { signals.append(watcher.signal) }
            }
            return dropped.count
        }
        for signal in signals { signal.fire() }
        return dropped
    }

    /// Moves the position forward without events (a catch-up that found only filtered or no rows up to `seq`).
    public func advance(to seq: Int64) {
        state.withLock { state in
            if let position = state.position, seq > position { state.position = seq }
        }
    }

    /// Registers a subscriber; returns its id, its mailbox and the position it starts after. Waits for the listener's
    /// first connection at most `startTimeout`, then refuses with `UNAVAILABLE`.
    public func subscribe(
        _ filter: EventFilter, capacity: Int, startTimeout: Duration = .seconds(5)
    ) async throws(DocketError) -> (id: SubscriberID, mailbox: BoundedMailbox<Event>, position: Int64) {
        if position == nil { await waitForStart(upTo: startTimeout) }
        let mailbox = BoundedMailbox<Event>(capacity: capacity)
        let registered = state.withLock { state -> (SubscriberID, Int64)? in
            guard let position = state.position else { return nil }
            let id = state.nextID
            state.nextID += 1
            state.subscribers[id] = Subscriber(filter: filter, mailbox: mailbox)
            return (id, position)
        }
        guard let (id, position) = registered else {
            throw DocketError(.unavailable, "the event bus is not connected to the database yet")
        }
        return (id, mailbox, position)
    }

    /// Removes a subscriber and closes its mailbox.
    public func unsubscribe(_ id: SubscriberID) {
        let subscriber = state.withLock { $0.subscribers.removeValue(forKey: id) }
        subscriber?.mailbox.close()
    }

    /// Fires `signal` after every publish that contains an event matching `matches` (in-process wake-ups, e.g. the
    /// recurrence sweep learning that a schedule changed).
    public func watch(_ signal: WakeSignal, matching matches: @escaping @Sendable (Event) -> Bool) {
        state.withLock { $0.watchers.append(Watcher(matches: matches, signal: signal)) }
    }

    /// Closes every subscriber (shutdown).
    public func closeAll() {
        let subscribers = state.withLock { state -> [Subscriber] in
            defer { state.subscribers = [:] }
            return Array(state.subscribers.values)
        }
        for subscriber in subscribers { subscriber.mailbox.close() }
    }

    private func waitForStart(upTo limit: Duration) async {
        let clock = ContinuousClock()
        let deadline = clock.now + limit
        while position == nil, clock.now < deadline {
            try? await Task.sleep(for: .milliseconds(20))
        }
    }
}
