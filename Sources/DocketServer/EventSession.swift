import DocketBus
import DocketCore
import DocketPostgres
import DocketProtocol
import Synchronization

/// The event operations of one connection (SPEC 3.3): `subscribe`, `unsubscribe`, `events.list`, and the
/// subscriptions it holds. Pushed events go through the connection's response queue at the pace the client reads.
final class EventSession: Sendable {
    static let operations: Set<String> = ["subscribe", "unsubscribe", "events.list"]

    let bus: EventBus?
    private let subscriptions = Mutex<[String: EventBus.Subscription]>([:])

    init(bus: EventBus?) { self.bus = bus }

    var hasSubscriptions: Bool { subscriptions.withLock { !$0.isEmpty } }

    /// Registers a subscription and answers `{subscription_id, last_seq}`; the returned work delivers its events
    /// (run it concurrently with the connection's reading).
    func subscribe(_ request: WireRequest, actor: Principal, responses: ResponseQueue) async throws(DocketError)
        -> @Sendable () async -> Void
    {
        let bus = try available()
        let args = request.args
        try args.refuseUnknown(["topics", "from_seq", "tenant_id"])
        guard let topics = try args.optionalStrings("topics", maxCount: EventFilter.maximumPatterns, maxLength: 100) else {
            throw .validation(field: "topics", "is required (for example [\"job.*\", \"task.completed\"])")
        }
        let fromSeq = try args.optionalInt("from_seq", range: 0...Int(Int64.max / 2)).map(Int64.init)
        let filter = try EventFilter(patterns: topics, actor: actor, tenant: try args.tenant)
        guard subscriptions.withLock({ $0.count }) < bus.configuration.maxSubscriptionsPerConnection else {
            throw DocketError(.rateLimited, "at most \(bus.configuration.maxSubscriptionsPerConnection) subscriptions per connection")
        }
        let subscription = try await bus.subscribe(filter, fromSeq: fromSeq)
        subscriptions.withLock { $0[subscription.id] = subscription }
        responses.push(WireResponse.success(id: request.id, data: .object([
            "subscription_id": .string(subscription.id), "last_seq": .number(Double(subscription.position))])))
        return { [self] in
            let name = subscription.id
            let outcome: (BoundedMailbox<Event>.Ending, Int64)
            do {
                outcome = try await subscription.deliver { event in
                    await responses.pushPaced(WireResponse.event(event.json, subscription: name))
                }
            } catch {
                self.subscriptions.withLock { $0[name] = nil }
                subscription.cancel()
                responses.push(WireResponse.dropped(subscription: name, error: Database.classify(error), lastSeq: nil))
                return
            }
            self.subscriptions.withLock { $0[name] = nil }
            if outcome.0 == .overflowed {
                responses.push(WireResponse.dropped(subscription: name, error: DocketError(.rateLimited,
                    "subscriber fell behind: more than \(bus.configuration.subscriberBuffer) events were waiting; "
                    + "subscribe again with from_seq \(outcome.1)"), lastSeq: outcome.1))
            }
        }
    }

    func unsubscribe(_ request: WireRequest) throws(DocketError) -> JSONValue {
        try request.args.refuseUnknown(["subscription_id"])
        let name = try request.args.string("subscription_id", maxLength: 100)
        guard let subscription = subscriptions.withLock({ $0.removeValue(forKey: name) }) else {
            throw DocketError(.notFound, "no subscription \(name) on this connection", details: ["subscription_id": .string(name)])
        }
        subscription.cancel()
        return .object(["subscription_id": .string(name), "unsubscribed": .bool(true)])
    }

    func list(_ request: WireRequest, actor: Principal) async throws -> JSONValue {
        let bus = try available()
        let args = request.args
        try args.refuseUnknown(["after_seq", "topics", "limit", "tenant_id"])
        let afterSeq = Int64(try args.optionalInt("after_seq", range: 0...Int(Int64.max / 2)) ?? 0)
        let limit = try args.optionalInt("limit", range: 1...1000) ?? 100
        let topics = try args.optionalStrings("topics", maxCount: EventFilter.maximumPatterns, maxLength: 100) ?? ["*"]
        let filter = try EventFilter(patterns: topics, actor: actor, tenant: try args.tenant)
        let (events, next) = try await bus.list(filter, afterSeq: afterSeq, limit: limit)
        return .object(["events": .array(events.map(\.json)), "next_after_seq": .number(Double(next))])
    }

    /// Ends every subscription (the connection is closing).
    func closeAll() {
        let all = subscriptions.withLock { state -> [EventBus.Subscription] in
            defer { state = [:] }
            return Array(state.values)
        }
        for subscription in all { subscription.cancel() }
    }

    private func available() throws(DocketError) -> EventBus {
        guard let bus else { throw DocketError(.unavailable, "the event bus is off on this instance (--bus off)") }
        return bus
    }
}
