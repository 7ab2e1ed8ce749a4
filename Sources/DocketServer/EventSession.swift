import DocketBus
import DocketCore
import DocketPostgres
import DocketProtocol
import Synchronization

/// The event operations of one connection (SPEC 3.3): `subscribe`, `unsubscribe`, `events.list`, and the
/// subscriptions it holds. Pushed events go through the connection's response queue at the pace the client reads.
final class EventSession: Sendable {
    let bus: EventBus?
    private let subscriptions = Mutex<[String: EventBus.Subscription]>([:])

    init(bus: EventBus?) { self.bus = bus }

    var hasSubscriptions: Bool { subscriptions.withLock { !$0.isEmpty } }

    /// Registers a subscription; its deliveries start once its answer `{subscription_id, last_seq}` is out.
    func subscribe(_ input: SubscribeArguments, actor: Principal, session: SessionState) async throws(DocketError) -> JSONValue {
        let bus = try available()
        let filter = try EventFilter(patterns: input.topics, actor: actor, tenant: input.tenantId)
        guard subscriptions.withLock({ $0.count }) < bus.configuration.maxSubscriptionsPerConnection else {
            throw DocketError(.rateLimited, "at most \(bus.configuration.maxSubscriptionsPerConnection) subscriptions per connection")
        }
        let subscription = try await bus.subscribe(filter, fromSeq: input.fromSeq)
        subscriptions.withLock { $0[subscription.id] = subscription }
        let responses = session.responses
        session.afterAnswer { [self] in
            let name = subscription.id
            let outcome: (BoundedMailbox<Event>.Ending, Int64)
            do {
                outcome = try await subscription.deliver { event in
                    await responses.pushPaced(WireResponse.event(event.wire, subscription: name))
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
        return .object(["subscription_id": .string(subscription.id), "last_seq": .number(Double(subscription.position))])
    }

    func unsubscribe(_ input: UnsubscribeArguments) throws(DocketError) -> JSONValue {
        let name = input.subscriptionId
        guard let subscription = subscriptions.withLock({ $0.removeValue(forKey: name) }) else {
            throw DocketError(.notFound, "no subscription \(name) on this connection", details: ["subscription_id": .string(name)])
        }
        subscription.cancel()
        return .object(["subscription_id": .string(name), "unsubscribed": .bool(true)])
    }

    func list(_ input: EventsListArguments, actor: Principal) async throws -> JSONValue {
        let bus = try available()
        let filter = try EventFilter(patterns: input.topics, actor: actor, tenant: input.tenantId)
        let (events, next) = try await bus.list(filter, afterSeq: input.afterSeq, limit: input.limit)
        return .object(["events": events.wire, "next_after_seq": .number(Double(next))])
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
