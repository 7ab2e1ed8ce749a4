import DocketClient
import DocketCore
import DocketPostgres
import DocketServices
import DocketTestSupport
import Foundation
import PostgresNIO
import Synchronization
import Testing

/// Subscriptions and `events.list` over the wire, against one real docketd.
@Suite(.serialized)
struct EventTests {
    /// Keys for tenant ta (jobs and tasks), tenant tb (jobs and tasks), and a task-only reader of ta.
    func keys(_ endpoint: DatabaseEndpoint) async throws -> (a: String, b: String, taskReader: String) {
        try await withDatabase(endpoint) { database in
            let keys = APIKeyService(database: database)
            let a = try await keys.create(for: Principal(id: "a", type: .user, tenantId: "ta", scopes: [.jobAdmin, .taskAdmin]))
            let b = try await keys.create(for: Principal(id: "b", type: .user, tenantId: "tb", scopes: [.jobAdmin, .taskAdmin]))
            let reader = try await keys.create(for: Principal(id: "r", type: .agent, tenantId: "ta", scopes: [.taskRead]))
            return (a.token, b.token, reader.token)
        }
    }

    @Test func subscribersSeeTheirTenantAndScopesOnlyInOrder() async throws {
        try await withDocketd { server, endpoint in
            let (tokenA, tokenB, tokenReader) = try await keys(endpoint)
            let a = try await server.client(token: tokenA), b = try await server.client(token: tokenB)
            let reader = try await server.client(token: tokenReader)
            let watcherA = try await server.client(token: tokenA), watcherB = try await server.client(token: tokenB)
            defer { Task { for client in [a, b, reader, watcherA, watcherB] { await client.close() } } }

            let subscribed = try await watcherA.call("subscribe", ["topics": .array([.string("job.*"), .string("task.completed")])])
            guard case .string = subscribed["subscription_id"], case .number = subscribed["last_seq"] else {
                Issue.record("subscribe answers subscription_id and last_seq: \(subscribed)")
                return
            }
            try await watcherB.call("subscribe", ["topics": .array([.string("*")])])
            try await reader.call("subscribe", ["topics": .array([.string("*")])])

            let job = try await a.call("job.create", ["name": .string("a1")])
            let task = try await a.call("task.create", ["title": .string("t1")])
            try await a.call("task.start", ["task_id": task["id"]!])
            try await a.call("task.complete", ["task_id": task["id"]!])
            try await b.call("job.create", ["name": .string("b1")])

            let seenByA = try await pushedEvents(watcherA, count: 2)
            #expect(seenByA.map { $0["topic"] } == [.string("job.created"), .string("task.completed")])
            #expect(seenByA[0]["entity_id"] == job["id"])
            #expect(seenByA.allSatisfy { $0["tenant_id"] == .string("ta") })
            let seqs = seenByA.compactMap { event -> Double? in if case .number(let seq)? = event["seq"] { seq } else { nil } }
            #expect(seqs == seqs.sorted() && Set(seqs).count == seqs.count)

            let seenByB = try await pushedEvents(watcherB, count: 1)
            #expect(seenByB.first?["tenant_id"] == .string("tb"))
            #expect(seenByB.first?["topic"] == .string("job.created"))

            // A task reader subscribed to * gets ta's task events and no job event.
            let seenByReader = try await pushedEvents(reader, count: 4)
            #expect(seenByReader.allSatisfy { $0["entity_type"] == .string("task") && $0["tenant_id"] == .string("ta") })

            // Envelope fields of SPEC 2.7.
            for field in ["seq", "id", "topic", "tenant_id", "entity_type", "entity_id", "actor_id", "occurred_at", "data"] {
                #expect(seenByA[0][field] != nil, "envelope has \(field)")
            }
        }
    }

    @Test func badSubscriptionsAreRefusedWithTypedErrors() async throws {
        try await withDocketd { server, endpoint in
            let (tokenA, _, tokenReader) = try await keys(endpoint)
            let a = try await server.client(token: tokenA), reader = try await server.client(token: tokenReader)
            defer { Task { await a.close(); await reader.close() } }
            let cases: [(DocketClient, String, [String: JSONValue], DocketError.Code)] = [
                (a, "subscribe", [:], .validationError),
                (a, "subscribe", ["topics": .array([])], .validationError),
                (a, "subscribe", ["topics": .string("job.*")], .validationError),
                (a, "subscribe", ["topics": .array([.string("jobs.everything")])], .validationError),
                (a, "subscribe", ["topics": .array([.string("job.*")]), "from_seq": .number(-1)], .validationError),
                (a, "subscribe", ["topics": .array([.string("job.*")]), "tenant_id": .string("tb")], .permissionDenied),
                (a, "subscribe", ["topics": .array([.string("job.*")]), "color": .string("red")], .validationError),
                (reader, "subscribe", ["topics": .array([.string("job.*")])], .permissionDenied),
                (reader, "subscribe", ["topics": .array([.string("cluster.leader_elected")])], .permissionDenied),
                (a, "unsubscribe", ["subscription_id": .string("nope")], .notFound),
                (a, "unsubscribe", [:], .validationError),
                (a, "events.list", ["limit": .number(0)], .validationError),
                (a, "events.list", ["after_seq": .string("x")], .validationError),
                (reader, "events.list", ["topics": .array([.string("job.created")])], .permissionDenied),
            ]
            for (client, op, args, code) in cases {
                do {
                    _ = try await client.call(op, args)
                    Issue.record("\(op) \(args) was accepted")
                } catch let error as DocketError {
                    #expect(error.code == code, "\(op) \(args): \(error.message)")
                }
            }
            // Still usable, and nothing was registered: a job event reaches no one on this connection.
            #expect(try await a.call("ping")["pong"] == .bool(true))
        }
    }

    @Test func replayFromSeqThenLiveWithoutGapOrRepeat() async throws {
        try await withDocketd { server, endpoint in
            let (tokenA, _, _) = try await keys(endpoint)
            let a = try await server.client(token: tokenA), watcher = try await server.client(token: tokenA)
            defer { Task { await a.close(); await watcher.close() } }
            for index in 0..<5 { try await a.call("job.create", ["name": .string("before-\(index)")]) }
            let listed = try await a.call("events.list", ["topics": .array([.string("job.created")]), "limit": .number(3)])
            #expect(listed["events"]?.items.count == 3)
            guard case .number(let next)? = listed["next_after_seq"] else { Issue.record("next_after_seq"); return }
            let rest = try await a.call("events.list", ["topics": .array([.string("job.created")]), "after_seq": .number(next)])
            #expect(rest["events"]?.items.count == 2)
            let allSeqs = ((listed["events"]?.items ?? []) + (rest["events"]?.items ?? [])).map { $0["seq"] }
            #expect(Set(allSeqs.map { "\($0!)" }).count == 5)

            // Subscribe from before the first one: the five are replayed, then live ones follow.
            try await watcher.call("subscribe", ["topics": .array([.string("job.created")]), "from_seq": .number(0)])
            for index in 0..<3 { try await a.call("job.create", ["name": .string("after-\(index)")]) }
            let got = try await pushedEvents(watcher, count: 8)
            let names = got.map { $0["data"]?["name"] ?? $0["entity_id"] }
            let seqs = got.compactMap { event -> Double? in if case .number(let seq)? = event["seq"] { seq } else { nil } }
            #expect(seqs == seqs.sorted() && Set(seqs).count == 8, "in seq order, each once: \(seqs)")
            #expect(names.count == 8)
        }
    }

    @Test func unsubscribeStopsDelivery() async throws {
        try await withDocketd { server, endpoint in
            let (tokenA, _, _) = try await keys(endpoint)
            let a = try await server.client(token: tokenA), watcher = try await server.client(token: tokenA)
            defer { Task { await a.close(); await watcher.close() } }
            let subscribed = try await watcher.call("subscribe", ["topics": .array([.string("job.created")])])
            try await a.call("job.create", ["name": .string("one")])
            #expect(try await pushedEvents(watcher, count: 1).count == 1)
            let answer = try await watcher.call("unsubscribe", ["subscription_id": subscribed["subscription_id"]!])
            #expect(answer["unsubscribed"] == .bool(true))
            try await a.call("job.create", ["name": .string("two")])
            await #expect(throws: DocketError.self) { _ = try await pushedEvents(watcher, count: 1, timeout: .seconds(1)) }
        }
    }

    /// A subscriber that stops reading is dropped with RATE_LIMITED once its buffer is full; docketd stays well.
    @Test func aSubscriberThatStopsReadingIsToldAndDropped() async throws {
        try await withDocketd(["--subscriber-buffer", "10"]) { server, endpoint in
            let raw = try RawConnection(port: server.port)
            raw.send("{\"id\":1,\"op\":\"auth\",\"args\":{\"token\":\"\(server.token)\"}}\n")
            #expect(try raw.json()["ok"] == .bool(true))
            raw.send("{\"id\":2,\"op\":\"subscribe\",\"args\":{\"topics\":[\"*\"],\"tenant_id\":\"t\"}}\n")
            #expect(try raw.json()["ok"] == .bool(true))
            // 40,000 events in one statement (about 12 MB on the wire), while the raw client reads nothing.
            _ = try await withDatabase(endpoint) { database in
                try await database.transaction { connection in
                    try await connection.query("""
                        INSERT INTO docket.events (id, topic, tenant_id, entity_type, entity_id, data)
                        SELECT gen_random_uuid(), 'job.updated', 't', 'job', 'x', jsonb_build_object('pad', repeat('x', 200))
                        FROM generate_series(1, 40000)
                        """, logger: .init(label: "test"))
                }
            }
            // Models time: the listener polls at least every second; three seconds on, read everything that was sent.
            try await Task.sleep(for: .seconds(3))
            var dropped: [String: JSONValue]?
            var received = 0
            while let line = raw.line() {
                guard case .object(let fields)? = try? JSONDecoder().decode(JSONValue.self, from: Data(line.utf8)) else { continue }
                if fields["event"] != nil { received += 1 }
                if fields["dropped"] == .bool(true) {
                    dropped = fields
                    break
                }
            }
            #expect(dropped?.errorCode == "RATE_LIMITED")
            #expect(received < 40_000)
            if case .object(let error)? = dropped?["error"], case .object(let details)? = error["details"] {
                #expect(details["last_seq"] != nil)
            }
            let client = try await server.client()
            defer { Task { await client.close() } }
            #expect(try await client.call("ping")["pong"] == .bool(true))
        }
    }

    @Test func subscriptionLimitsAndABusThatIsOff() async throws {
        try await withDocketd(["--max-subscriptions", "2"]) { server, _ in
            let client = try await server.client()
            defer { Task { await client.close() } }
            let topics: [String: JSONValue] = ["topics": .array([.string("*")]), "tenant_id": .string("t")]
            try await client.call("subscribe", topics)
            try await client.call("subscribe", topics)
            do {
                _ = try await client.call("subscribe", topics)
                Issue.record("a third subscription was accepted")
            } catch let error as DocketError {
                #expect(error.code == .rateLimited)
            }
        }
        try await withDocketd(["--bus", "off"]) { server, _ in
            let client = try await server.client()
            defer { Task { await client.close() } }
            for (op, args) in [("subscribe", ["topics": JSONValue.array([.string("*")]), "tenant_id": .string("t")]),
                               ("events.list", ["tenant_id": JSONValue.string("t")])] {
                do {
                    _ = try await client.call(op, args)
                    Issue.record("\(op) answered with the bus off")
                } catch let error as DocketError {
                    #expect(error.code == .unavailable, "\(op): \(error.message)")
                }
            }
            // Everything else still works, events are still written.
            try await client.call("job.create", ["name": .string("no bus"), "tenant_id": .string("t")])
        }
    }

    /// SIGTERM while subscribers are connected: their subscriptions end and docketd exits 0 within the grace.
    @Test func shutdownWithSubscribersExitsCleanly() async throws {
        try await withTestDatabase(migrated: false) { endpoint in
            let server = try await Docketd.start(endpoint)
            var watchers: [DocketClient] = []
            for _ in 0..<3 {
                let watcher = try await server.client()
                try await watcher.call("subscribe", ["topics": .array([.string("*")]), "tenant_id": .string("t")])
                watchers.append(watcher)
            }
            let clock = ContinuousClock()
            let started = clock.now
            let status = try await server.stop()
            #expect(status == 0)
            #expect(clock.now - started < .seconds(10), "drained in \(clock.now - started)")
            for watcher in watchers { await watcher.close() }
        }
    }
}

extension JSONValue {
    var items: [JSONValue] {
        if case .array(let items) = self { return items }
        return []
    }
}
