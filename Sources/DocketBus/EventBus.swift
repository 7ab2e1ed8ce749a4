import DocketCore
import DocketPostgres
import Foundation
import Synchronization

/// What the protocol server uses of the bus: subscriptions (live events, optionally replayed from a `seq`) and
/// `events.list` reads, both filtered by the reader's tenant and scopes.
public struct EventBus: Sendable {
    public struct Configuration: Sendable {
        /// Events a subscriber may have queued before it is dropped as too slow.
        public var subscriberBuffer = 1000
        /// Most subscriptions on one connection.
        public var maxSubscriptionsPerConnection = 16
        public var replayPage = 500

        public init() {}

        public func validate() throws(DocketError) {
            guard (1...1_000_000).contains(subscriberBuffer) else {
                throw .validation(field: "subscriber_buffer", "must be 1–1000000, got \(subscriberBuffer)")
            }
            guard (1...1000).contains(maxSubscriptionsPerConnection) else {
                throw .validation(field: "max_subscriptions", "must be 1–1000, got \(maxSubscriptionsPerConnection)")
            }
        }
    }

    public let hub: EventHub
    let database: Database
    public let configuration: Configuration

    public init(hub: EventHub, database: Database, configuration: Configuration = .init()) {
        self.hub = hub
        self.database = database
        self.configuration = configuration
    }

    /// Registers a subscription. With `fromSeq`, the events after it are replayed from the table before live ones.
    public func subscribe(_ filter: EventFilter, fromSeq: Int64?) async throws(DocketError) -> Subscription {
        let (id, mailbox, position) = try await hub.subscribe(filter, capacity: configuration.subscriberBuffer)
        return Subscription(hubID: id, mailbox: mailbox, position: position, fromSeq: fromSeq, filter: filter, bus: self)
    }

    /// Stored events after `afterSeq` that `filter` admits, up to the horizon; and where the next page starts.
    public func list(_ filter: EventFilter, afterSeq: Int64, limit: Int) async throws -> (events: [Event], nextAfterSeq: Int64) {
        try await database.read { connection in
            let queries = EventQueries(connection, logger: database.logger)
            let horizon = try await queries.horizon()
            let events = try await queries.list(
                afterSeq: afterSeq, throughSeq: horizon, tenant: filter.tenant, entityTypes: filter.entityTypes,
                clusterEvents: filter.readable.contains(.cluster), patterns: filter.likePatterns, limit: limit)
            let next = events.count == limit ? events.last!.seq : max(afterSeq, horizon)
            return (events, next)
        }
    }

    /// One subscription: `deliver` hands its events, in `seq` order and each once, to a consumer.
    public final class Subscription: Sendable {
        public let id = UUID().uuidString.lowercased()
        /// The hub position at registration: live events start after it.
        public let position: Int64
        let hubID: EventHub.SubscriberID
        let mailbox: BoundedMailbox<Event>
        let fromSeq: Int64?
        let filter: EventFilter
        let bus: EventBus
        private let cancelled = Atomic(false)

        init(hubID: EventHub.SubscriberID, mailbox: BoundedMailbox<Event>, position: Int64, fromSeq: Int64?,
             filter: EventFilter, bus: EventBus) {
            self.hubID = hubID
            self.mailbox = mailbox
            self.position = position
            self.fromSeq = fromSeq
            self.filter = filter
            self.bus = bus
        }

        /// Stops delivery; events not yet handed over are discarded.
        public func cancel() {
            cancelled.store(true, ordering: .relaxed)
            bus.hub.unsubscribe(hubID)
        }

        /// Hands every event to `consume` — first those replayed from the table (`fromSeq` < seq ≤ position), then
        /// live ones — until cancelled or overflowed. Returns why it ended: `.closed` or `.overflowed`, with the last
        /// `seq` handed over (a client resubscribes with `from_seq` set to it).
        public func deliver(_ consume: (Event) async -> Void) async throws -> (ending: BoundedMailbox<Event>.Ending, lastSeq: Int64) {
            var last = max(fromSeq ?? position, 0)
            if let fromSeq, fromSeq < position {
                var after = fromSeq
                while after < position, !isCancelled {
                    let page = bus.configuration.replayPage
                    let (events, next) = try await bus.list(filter, afterSeq: after, limit: page)
                    for event in events where event.seq <= position {
                        guard !isCancelled else { break }
                        await consume(event)
                        last = event.seq
                    }
                    if events.isEmpty || next <= after { break }
                    after = min(next, position)
                }
                last = max(last, position)
            }
            while let event = await mailbox.next() {
                guard !isCancelled else { break }
                guard event.seq > last else { continue }
                await consume(event)
                last = event.seq
            }
            return (mailbox.ending ?? .closed, last)
        }

        private var isCancelled: Bool { cancelled.load(ordering: .relaxed) }
    }
}
