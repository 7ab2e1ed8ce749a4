import DocketBus
import DocketCore
import DocketPostgres
import DocketTestSupport
import Foundation
import Logging
import PostgresNIO
import Synchronization
import Testing

/// The bus against a real PostgreSQL: ordering when seqs commit out of order, reconnects, bounded subscribers.
@Suite(.serialized)
struct EventBusTests {
    static let logger = Logger(label: "docket.test.bus")
    static let system = Principal(id: "test", type: .system, tenantId: "system", scopes: Set(Scope.allCases))

    /// Runs a listener and its hub on a fresh database for the body's duration.
    func withListener(
        _ configure: (inout EventListener.Configuration) -> Void = { _ in },
        _ body: @Sendable (EventListener, DatabaseEndpoint) async throws -> Void
    ) async throws {
        try await withTestDatabase { endpoint in
            var configuration = EventListener.Configuration()
            configure(&configuration)
            let listener = EventListener(endpoint: endpoint, hub: EventHub(), configuration: configuration, logger: Self.logger)
            try await withThrowingTaskGroup(of: Void.self) { group in
                group.addTask { try await listener.run() }
                defer { listener.stop() }
                _ = try await eventually(.seconds(10), every: .milliseconds(10)) { listener.hub.position }  // it connects
                try await body(listener, endpoint)
            }
        }
    }

    /// Inserts one event the way a DBA would (the table's trigger fences it) and returns its seq.
    static func insertEvent(_ connection: PostgresConnection, tenant: String = "t1") async throws -> Int64 {
        let rows = try await connection.query("""
            INSERT INTO docket.events (id, topic, tenant_id, entity_type, entity_id)
            VALUES (gen_random_uuid(), 'job.updated', \(tenant), 'job', 'x') RETURNING seq
            """, logger: logger).collect()
        return try rows[0].decode(Int64.self)
    }

    static func horizon(_ connection: PostgresConnection) async throws -> Int64 {
        try await EventQueries(connection, logger: logger).horizon()
    }

    /// Takes what arrives within `timeout` (stops early once `count` events came, or the mailbox ended).
    static func drain(_ mailbox: BoundedMailbox<Event>, count: Int, timeout: Duration = .seconds(30)) async -> [Event] {
        var events: [Event] = []
        _ = try? await eventually(timeout, every: .milliseconds(5)) { () async -> Bool? in
            while events.count < count, mailbox.count > 0, let event = await mailbox.next() { events.append(event) }
            return events.count >= count || (mailbox.ending != nil && mailbox.count == 0) ? true : nil
        }
        return events
    }

    @Test func aHigherSeqThatCommitsFirstWaitsForTheLowerOne() async throws {
        try await withListener { listener, endpoint in
            let filter = try EventFilter(patterns: ["*"], actor: Self.system, tenant: nil)
            let (_, mailbox, _) = try await listener.hub.subscribe(filter, capacity: 100)
            let first = try await endpoint.connect(logger: Self.logger)
            let second = try await endpoint.connect(logger: Self.logger)
            defer { Task { try? await first.close(); try? await second.close() } }

            try await first.query("BEGIN", logger: Self.logger)
            let low = try await Self.insertEvent(first)
            // The writer's bound (its lock key) is below the seq it drew: the trigger ran before the seq was drawn.
            let bound = try await first.query("""
                SELECT ((classid::bigint << 32) | objid::bigint) - 4611686018427387904 FROM pg_locks
                WHERE locktype = 'advisory' AND objsubid = 1 AND pid = pg_backend_pid()
                """, logger: Self.logger).collect()
            let key = try #require(try bound.first?.decode(Int64.self))
            #expect(key < low)

            try await second.query("BEGIN", logger: Self.logger)
            let high = try await Self.insertEvent(second)
            #expect(high > low)
            try await second.query("COMMIT", logger: Self.logger)
            #expect(try await Self.horizon(second) < low, "an open writer holds the horizon below its seq")

            listener.wake.fire()
            // Models time: eight gap patiences pass, and still nothing may be published.
            try await Task.sleep(for: .milliseconds(400))
            #expect(mailbox.count == 0, "the higher seq is held back while the lower one may still commit")

            try await first.query("COMMIT", logger: Self.logger)
            listener.wake.fire()
            let delivered = await Self.drain(mailbox, count: 2)
            #expect(delivered.map(\.seq) == [low, high])
        }
    }

    @Test func aRolledBackLowerSeqReleasesTheHorizon() async throws {
        try await withListener { listener, endpoint in
            let filter = try EventFilter(patterns: ["job.*"], actor: Self.system, tenant: nil)
            let (_, mailbox, _) = try await listener.hub.subscribe(filter, capacity: 100)
            let first = try await endpoint.connect(logger: Self.logger)
            let second = try await endpoint.connect(logger: Self.logger)
            defer { Task { try? await first.close(); try? await second.close() } }
            try await first.query("BEGIN", logger: Self.logger)
            _ = try await Self.insertEvent(first)
            let high = try await Self.insertEvent(second)  // autocommit
            try await first.query("ROLLBACK", logger: Self.logger)
            listener.wake.fire()
            let delivered = await Self.drain(mailbox, count: 1)
            #expect(delivered.map(\.seq) == [high])
        }
    }

    /// Eight writers, transactions of 1–3 events with pauses inside and some rolled back, while the listener's
    /// connection is terminated twice: the subscriber gets every committed event once, in seq order.
    @Test func concurrentWritersAndReconnectsLoseAndRepeatNothing() async throws {
        try await withListener({ $0.poll = .milliseconds(200) }) { listener, endpoint in
            let filter = try EventFilter(patterns: ["*"], actor: Self.system, tenant: nil)
            let (_, mailbox, _) = try await listener.hub.subscribe(filter, capacity: 100_000)
            let committed = Collected()
            try await withThrowingTaskGroup(of: Void.self) { group in
                for writer in 0..<8 {
                    group.addTask {
                        let connection = try await endpoint.connect(logger: Self.logger)
                        defer { Task { try? await connection.close() } }
                        for round in 0..<80 {
                            try await connection.query("BEGIN", logger: Self.logger)
                            var seqs: [Int64] = []
                            for _ in 0..<Int.random(in: 1...3) {
                                seqs.append(try await Self.insertEvent(connection, tenant: "w\(writer)"))
                                // Models time: transactions of random lengths, so that seqs commit out of order.
                                try await Task.sleep(for: .microseconds(Int.random(in: 0...3000)))
                            }
                            if (writer + round) % 7 == 0 {
                                try await connection.query("ROLLBACK", logger: Self.logger)
                            } else {
                                try await connection.query("COMMIT", logger: Self.logger)
                                committed.add(seqs)
                                listener.wake.fire()
                            }
                        }
                    }
                }
                group.addTask {
                    let admin = try await endpoint.connect(logger: Self.logger)
                    defer { Task { try? await admin.close() } }
                    for _ in 0..<2 {
                        try await Task.sleep(for: .milliseconds(150))  // models time: the listener is lost mid-load
                        try await admin.query("""
                            SELECT pg_terminate_backend(pid) FROM pg_stat_activity
                            WHERE application_name = 'docket-listener' AND datname = current_database()
                            """, logger: Self.logger)
                    }
                }
                try await group.waitForAll()
            }
            let expected = committed.all.sorted()
            let delivered = await Self.drain(mailbox, count: expected.count, timeout: .seconds(20))
            #expect(delivered.count == expected.count)
            #expect(delivered.map(\.seq) == expected, "every committed event once, in seq order")
            #expect(listener.statistics.reconnects >= 1, "the listener reconnected")
        }
    }

    @Test func aSubscriberThatCannotKeepUpIsDroppedNotGrown() async throws {
        let hub = EventHub()
        hub.start(at: 0)
        let filter = try EventFilter(patterns: ["job.*"], actor: Self.system, tenant: nil)
        let (_, slow, _) = try await hub.subscribe(filter, capacity: 5)
        let (_, fast, _) = try await hub.subscribe(filter, capacity: 100)
        let events = (1...20).map { seq in
            Event(seq: Int64(seq), id: UUID(), topic: "job.updated", tenantId: "t1", entityType: "job", entityId: "x",
                  actorId: nil, occurredAt: Date(), data: .object([:]))
        }
        let dropped = hub.publish(events)
        #expect(dropped == 1)
        #expect(hub.subscriberCount == 1)
        var kept: [Int64] = []
        while let event = await slow.next() { kept.append(event.seq) }
        #expect(kept == [1, 2, 3, 4, 5])
        #expect(slow.ending == .overflowed)
        #expect(fast.count == 20)
        // Nothing at or below the position is published again.
        #expect(hub.publish(Array(events.prefix(3))) == 0)
        #expect(fast.count == 20)
    }

    @Test func filtersFollowTenantAndScopes() throws {
        let reader = Principal(id: "r", type: .agent, tenantId: "t1", scopes: [.taskRead])
        #expect(throws: DocketError.self) { try EventFilter(patterns: ["job.*"], actor: reader, tenant: nil) }
        #expect(throws: DocketError.self) { try EventFilter(patterns: ["task.*"], actor: reader, tenant: "t2") }
        #expect(throws: DocketError.self) { try EventFilter(patterns: ["task.nonsense"], actor: reader, tenant: nil) }
        let filter = try EventFilter(patterns: ["*"], actor: reader, tenant: nil)
        func event(_ topic: String, _ tenant: String?, _ type: String) -> Event {
            Event(seq: 1, id: UUID(), topic: topic, tenantId: tenant, entityType: type, entityId: nil, actorId: nil,
                  occurredAt: Date(), data: .null)
        }
        #expect(filter.admits(event("task.completed", "t1", "task")))
        #expect(!filter.admits(event("task.completed", "t2", "task")))
        #expect(!filter.admits(event("job.created", "t1", "job")))
        #expect(!filter.admits(event("cluster.leader_elected", nil, "cluster")))
        let exact = try EventFilter(patterns: ["task.completed"], actor: reader, tenant: nil)
        #expect(!exact.admits(event("task.created", "t1", "task")))
        #expect(exact.likePatterns == ["task.completed"].map { $0.replacingOccurrences(of: "_", with: "\\_") })
    }
}

/// Seqs gathered from several writers.
final class Collected: Sendable {
    private let items = Mutex<[Int64]>([])

    func add(_ seqs: [Int64]) { items.withLock { $0 += seqs } }
    var all: [Int64] { items.withLock { $0 } }
}
