import DocketCore
import Foundation
import Synchronization

extension Docket {
    /// Subscribes to events of these topics (`job.*`, `task.completed`, …): the answer is an `AsyncSequence` of events
    /// in `seq` order that outlives the connection — after a reconnect it subscribes again from the last `seq` it
    /// delivered, so nothing is missed and nothing comes twice.
    ///
    /// With `after`, the stored events after that `seq` come first. The sequence ends (returns nil) when the client is
    /// closed or `cancel()` is called; it throws when the server cannot be reached again within
    /// `Options.reconnectTimeout`, or refuses the subscription.
    public func subscribe(_ topics: [String], after seq: Int64? = nil, tenantId: String? = nil) async throws -> Subscription {
        let subscription = Subscription(docket: self, topics: topics, tenantId: tenantId, lastSeq: seq)
        try await subscription.state.subscribe(firstTime: true)
        return subscription
    }
}

/// An open subscription: iterate it for events. See `Docket.subscribe`.
public struct Subscription: AsyncSequence, Sendable {
    public typealias Element = Docket.Event

    let state: SubscriptionState

    init(docket: Docket, topics: [String], tenantId: String?, lastSeq: Int64?) {
        state = SubscriptionState(docket: docket, topics: topics, tenantId: tenantId, lastSeq: lastSeq)
    }

    /// The `seq` of the last event delivered (or of the stream's start).
    public var lastSeq: Int64 { state.lastSeq }

    /// How many times it subscribed again after losing its connection or being dropped.
    public var resumes: Int { state.resumes }

    /// Stops the subscription: the server is told, and iteration ends.
    public func cancel() async { await state.cancel() }

    public func makeAsyncIterator() -> Iterator { Iterator(state: state, signals: state.signals.makeAsyncIterator()) }

    public struct Iterator: AsyncIteratorProtocol {
        let state: SubscriptionState
        var signals: AsyncStream<SubscriptionSignal>.Iterator

        public mutating func next() async throws -> Docket.Event? {
            while let signal = await signals.next() {
                switch signal {
                case .event(let json):
                    let event = try WireCoding.decode(Docket.Event.self, from: json, op: "subscribe")
                    if state.deliver(event.seq) { return event }
                case .ended:
                    guard !state.isFinished else { return nil }
                    do {
                        try await state.subscribe(firstTime: false)
                    } catch where state.isFinished {
                        return nil  // closed or cancelled while it was subscribing again
                    }
                }
            }
            return nil
        }
    }
}

/// What a subscription's stream carries: an event, or the end of the server-side subscription it came through.
enum SubscriptionSignal: Sendable {
    case event(JSONValue)
    case ended(DocketError)
}

/// One subscription's state across its server-side subscriptions (one per connection it lived on).
final class SubscriptionState: Sendable {
    let docket: Docket
    let topics: [String]
    let tenantId: String?
    let signals: AsyncStream<SubscriptionSignal>
    let sink: AsyncStream<SubscriptionSignal>.Continuation
    private let progress: Mutex<Progress>

    private struct Progress {
        var lastSeq: Int64?
        var serverId: String?
        var resumes = 0
        var cancelled = false
    }

    init(docket: Docket, topics: [String], tenantId: String?, lastSeq: Int64?) {
        self.docket = docket
        self.topics = topics
        self.tenantId = tenantId
        progress = Mutex(Progress(lastSeq: lastSeq))
        (signals, sink) = AsyncStream.makeStream(of: SubscriptionSignal.self)
    }

    var lastSeq: Int64 { progress.withLock { $0.lastSeq ?? 0 } }
    var resumes: Int { progress.withLock { $0.resumes } }
    var isFinished: Bool { progress.withLock { $0.cancelled } || docket.isClosed }

    /// Whether the event is new (past the last one delivered); records it when it is.
    func deliver(_ seq: Int64) -> Bool {
        progress.withLock { progress in
            if let last = progress.lastSeq, seq <= last { return false }
            progress.lastSeq = seq
            return true
        }
    }

    /// Subscribes on the live connection from the last delivered `seq`; after a loss, keeps trying until the
    /// reconnect timeout has passed.
    func subscribe(firstTime: Bool) async throws {
        let deadline = ContinuousClock.now + docket.options.reconnectTimeout
        var pause = docket.options.backoff.lowerBound
        while true {
            do {
                try await subscribeOnce()
                if !firstTime { progress.withLock { $0.resumes += 1 } }
                return
            } catch let error as DocketError where error.code == .unavailable && !firstTime && !isFinished {
                guard ContinuousClock.now + pause < deadline else { throw error }
                try await Task.sleep(for: pause.jittered)  // models time: the pause before subscribing again
                pause = min(pause * 2, docket.options.backoff.upperBound)
            }
        }
    }

    private func subscribeOnce() async throws {
        let connection = try await docket.connection(waiting: docket.options.reconnectTimeout)
        var fields = CallArguments(["topics": topics.json])
        fields["from_seq"] = progress.withLock { $0.lastSeq }.map { .number(Double($0)) }
        fields["tenant_id"] = tenantId.map(JSONValue.string)
        // Events can arrive before the answer is read: the router holds them for this connection until the id is known.
        let answer = try await connection.call(ServiceOperation.subscribe.name, fields.fields)
        guard let id = answer["subscription_id"]?.stringValue else {
            throw DocketError(.internal, "subscribe answered without a subscription_id")
        }
        progress.withLock { progress in
            progress.serverId = id
            if progress.lastSeq == nil, case .number(let seq)? = answer["last_seq"] { progress.lastSeq = Int64(seq) }
        }
        docket.subscriptions.register(id, connection: connection.identity, sink: sink)
    }

    func cancel() async {
        let id = progress.withLock { progress -> String? in
            progress.cancelled = true
            return progress.serverId
        }
        if let id {
            docket.subscriptions.remove(id)
            _ = try? await docket.call(.unsubscribe, ["subscription_id": .string(id)])
        }
        sink.finish()
    }
}

/// Routes every connection's pushes to the subscriptions they belong to; tells each subscription when its connection
/// ends or the server drops it.
final class SubscriptionRouter: PushRouting {
    private struct Route {
        let connection: ObjectIdentifier
        let sink: AsyncStream<SubscriptionSignal>.Continuation
    }

    private struct State {
        var routes: [String: Route] = [:]
        /// Events for an id not registered yet (its `subscribe` answer is still on its way), by connection.
        var early: [ObjectIdentifier: [(String, Push)]] = [:]
        /// Ids cancelled here: what the server still sends for them (before it reads the `unsubscribe`) is dropped.
        var cancelled: Set<String> = []
    }

    /// Early pushes held per connection at most; past it the oldest go (the resumed subscription replays them).
    static let earlyLimit = 10_000
    private let state = Mutex(State())

    func received(_ push: Push, on connection: ObjectIdentifier) {
        let subscription: String
        switch push {
        case .event(let id, _), .dropped(let id, _): subscription = id
        }
        let route = state.withLock { state -> Route? in
            if let route = state.routes[subscription] {
                if case .dropped = push { state.routes[subscription] = nil }
                return route
            }
            guard !state.cancelled.contains(subscription) else { return nil }
            var held = state.early[connection, default: []]
            if held.count >= Self.earlyLimit { held.removeFirst() }
            held.append((subscription, push))
            state.early[connection] = held
            return nil
        }
        route.map { Self.forward(push, to: $0.sink) }
    }

    func ended(_ connection: ObjectIdentifier, _ error: DocketError) {
        let ended = state.withLock { state -> [Route] in
            state.early[connection] = nil
            let gone = state.routes.filter { $0.value.connection == connection }
            for id in gone.keys { state.routes[id] = nil }
            return Array(gone.values)
        }
        for route in ended { route.sink.yield(.ended(error)) }
    }

    func register(_ id: String, connection: ObjectIdentifier, sink: AsyncStream<SubscriptionSignal>.Continuation) {
        let held = state.withLock { state -> [Push] in
            state.routes[id] = Route(connection: connection, sink: sink)
            let all = state.early[connection] ?? []
            state.early[connection] = all.filter { $0.0 != id }
            return all.filter { $0.0 == id }.map(\.1)
        }
        for push in held { Self.forward(push, to: sink) }
    }

    /// Pushes held for ids not registered yet, on every connection.
    var heldCount: Int { state.withLock { $0.early.values.reduce(0) { $0 + $1.count } } }

    func remove(_ id: String) {
        state.withLock { state in
            state.routes[id] = nil
            if state.cancelled.count >= Self.earlyLimit { state.cancelled.removeAll() }
            state.cancelled.insert(id)
        }
    }

    func closeAll() {
        let routes = state.withLock { state -> [Route] in
            defer { state = State() }
            return Array(state.routes.values)
        }
        for route in routes { route.sink.finish() }
    }

    private static func forward(_ push: Push, to sink: AsyncStream<SubscriptionSignal>.Continuation) {
        switch push {
        case .event(_, let event): sink.yield(.event(event))
        case .dropped(_, let error): sink.yield(.ended(error))
        }
    }
}
