import DocketCore
import DocketPostgres
import DocketServices
import DocketTestSupport
import Foundation
import Testing
@testable import DocketClient
@testable import DocketServer

/// The typed client (`Docket`) against one real docketd: a method for every operation of the table, models that
/// read the wire form whole, reconnects that re-authenticate, and subscriptions that resume without gap or duplicate.
@Suite(.serialized)
struct TypedClientTests {
    /// Every typed method once, then the server's request counter: each operation of the table must have been served.
    @Test func everyOperationHasATypedMethod() async throws {
        try await withDocketd { server, endpoint in
            let docket = try await Docket.connect(port: server.port, token: try await Self.tenantKey(endpoint))
            defer { Task { await docket.close() } }

            #expect(try await docket.hello().server == "docketd")
            #expect(try await !docket.ping().isEmpty)
            #expect(try await docket.whoAmI().scopes.contains("cluster:admin"))

            // Jobs, through their life.
            var draft = Docket.NewJob(name: "typed", kind: "mail.send", queue: "mail", args: ["to": "a@example.com"])
            draft.metadata = ["team": "x"]
            draft.estimatedCost = try Money("1.50", field: "estimated_cost")
            let created = try await docket.jobs.create(draft)
            #expect(created.status == .draft && created.kind == "mail.send" && created.queue == "mail" && created.args["to"] == "a@example.com")
            let many = try await docket.jobs.createMany([.now("m1", kind: "k"), .now("m2", kind: "k")])
            #expect(many.map(\.name) == ["m1", "m2"] && many.allSatisfy { $0.schedule != nil })
            #expect(try await docket.jobs.get(created.id) == created)
            var changes = Docket.JobChanges()
            changes.description = "now described"
            let updated = try await docket.jobs.update(created.id, changes, expectedVersion: created.version)
            #expect(updated.description == "now described")
            // (The leader may have started m1 and m2 already: due jobs no worker holds are started by its sweep.)
            let listed = try await docket.jobs.list(Docket.JobQuery(kind: "k"), page: Docket.PageQuery(limit: 1))
            #expect(listed.items.count == 1 && listed.nextCursor != nil)
            let rest = try await docket.jobs.list(Docket.JobQuery(kind: "k"), page: Docket.PageQuery(limit: 1, after: listed.nextCursor))
            #expect(rest.items.count == 1 && rest.items[0].id != listed.items[0].id)
            let scheduled = try await docket.jobs.schedule(created.id, ["kind": "once", "run_at": Date(timeIntervalSinceNow: 3_600).json])
            #expect(scheduled.status == .scheduled)
            #expect(try await docket.jobs.pending().items.contains { $0.id == created.id })
            let started = try await docket.jobs.start(created.id)
            #expect(started.status == .running)
            #expect(try await docket.jobs.running().items.contains { $0.id == created.id })
            let beat = try await docket.jobs.heartbeat(created.id, executionContext: ["step": "one"])
            #expect(beat.status == .running && !beat.isCancelRequested)
            let saved = try await docket.jobs.checkpoint(created.id, step: 1, stepName: "first", state: ["cursor": 10])
            #expect(saved.checkpointState?["cursor"] == 10)
            _ = try await docket.jobs.recordMetrics(created.id, ttftNs: 1_000, totalDurationNs: 5_000)
            _ = try await docket.jobs.assignAgent(created.id, agent: "agent-2", reason: "handover")
            #expect(try await docket.jobs.pause(created.id, mode: .hard).status == .paused)
            #expect(try await docket.jobs.resume(created.id).status == .running)
            let failed = try await docket.jobs.fail(created.id, code: "BOOM", message: "it broke")
            #expect(failed.status == .failed && failed.errorCode == "BOOM")
            #expect(try await docket.jobs.retry(created.id).status == .running)
            let done = try await docket.jobs.complete(created.id, output: ["sent": true], actualCost: try Money("1.25", field: "c"))
            #expect(done.status == .succeeded && done.output?["sent"] == true)
            let runs = try await docket.jobs.history(created.id)
            #expect(runs.map(\.status) == ["failed", "succeeded"], "a run per attempt (pause and resume keep the run)")

            // Claims, cancels and deletes.
            let claimed = try await docket.jobs.claim(limit: 5, kinds: ["k"], agent: "typed-worker", leaseSeconds: 30)
            #expect(claimed.count == 2 && claimed.allSatisfy { $0.status == .running && $0.claimedBy == "typed-worker" })
            let cancelled = try await docket.jobs.cancel(claimed[0].id, reason: "not needed", mode: .hard)
            #expect(cancelled.status == .cancelled)
            try await docket.jobs.delete(cancelled.id)
            await #expect(throws: DocketError.self) { try await docket.jobs.get(cancelled.id) }

            // Tasks, and their links to jobs.
            let task = try await docket.tasks.create(Docket.TaskFields(title: "write"))
            let other = try await docket.tasks.create(Docket.TaskFields(title: "review"), jobId: created.id)
            #expect(try await docket.tasks.get(task.id).title == "write")
            var retitle = Docket.TaskFields()
            retitle.title = "write it"
            #expect(try await docket.tasks.update(task.id, retitle).title == "write it")
            #expect(try await docket.tasks.list(Docket.TaskQuery(status: [.pending])).items.count == 2)
            #expect(try await docket.tasks.addDependency(other.id, dependsOn: task.id).status == .blocked)
            #expect(try await docket.tasks.dependencies(other.id).first?.dependsOnId == task.id)
            #expect(try await docket.tasks.dependenciesComplete(other.id).complete == false)
            #expect(try await docket.tasks.removeDependency(other.id, dependsOn: task.id).status == .pending)
            #expect(try await docket.tasks.start(task.id).status == .inProgress)
            #expect(try await docket.tasks.inProgress().items.map(\.id) == [task.id])
            #expect(try await docket.tasks.pending().items.map(\.id) == [other.id])
            _ = try await docket.tasks.assign(task.id, to: "agent-7")
            _ = try await docket.tasks.updateContext(task.id, ["notes": "half"])
            _ = try await docket.tasks.setPriority(task.id, "HIGH")
            let sub = try await docket.tasks.createSubtask(of: task.id, Docket.TaskFields(title: "part"))
            #expect(try await docket.tasks.subtasks(task.id).map(\.id) == [sub.id])
            _ = try await docket.tasks.cancel(sub.id, reason: "merged")
            #expect(try await docket.tasks.complete(task.id, notes: "done").status == .completed)
            #expect(try await docket.tasks.reopen(task.id).status == .pending)
            _ = try await docket.jobs.linkTask(created.id, task: task.id, relationship: .supporting)
            #expect(try await docket.jobs.linkedTasks(created.id).map(\.taskId) == [task.id])
            #expect(Set(try await docket.tasks.byJob(created.id).map(\.id)) == [task.id, other.id])
            _ = try await docket.jobs.unlinkTask(created.id, task: task.id)
            try await docket.tasks.delete(other.id)

            // Queues, budgets, the cluster and events.
            #expect(try await docket.queues.list().contains { $0.queue == "mail" })
            #expect(try await docket.queues.update("mail", concurrency: .some(3), weight: 2).concurrency == 3)
            #expect(try await docket.queues.pause("mail").paused)
            #expect(try await docket.queues.resume("mail").paused == false)
            #expect(try await docket.queues.get("mail").weight == 2)
            _ = try await docket.admin.setBudget(limit: try Money("100", field: "limit"), period: "month")
            #expect(try await docket.admin.budget().spent != nil)
            #expect(try await docket.admin.clusterStatus().instances.count == 1)
            let page = try await docket.events(topics: ["job.created"])
            #expect(page.events.count == 3 && page.events.allSatisfy { $0.topic == "job.created" })
            let subscription = try await docket.subscribe(["job.*"])
            await subscription.cancel()

            // The server counted a request of every operation of its table.
            let (_, metrics) = try HTTP.get(port: server.httpPort, path: "/metrics")
            let unserved = OperationTable.all.map(\.name).filter { !metrics.contains("docket_requests_total{op=\"\($0)\"}") }
            #expect(unserved.isEmpty, "operations with no typed method: \(unserved)")
        }
    }

    /// A model read from the wire and written back is the wire form (nulls aside): no field is missed or misnamed.
    @Test func modelsReadTheWholeWireForm() async throws {
        try await withDocketd { server, endpoint in
            let docket = try await Docket.connect(port: server.port, token: try await Self.tenantKey(endpoint))
            defer { Task { await docket.close() } }
            var draft = Docket.NewJob.now("wire", kind: "k", args: ["n": 1])
            draft.retryPolicy = ["max_attempts": 3, "initial_backoff_seconds": 1, "max_backoff_seconds": 5]
            draft.callbackUrl = "https://example.com/hook"
            let job = try await docket.jobs.create(draft)
            _ = try await eventually { () async throws -> Bool? in try await docket.jobs.claim(kinds: ["k"]).isEmpty ? nil : true }
            _ = try await docket.jobs.checkpoint(job.id, step: 2, state: ["x": "y"])
            _ = try await docket.tasks.create(Docket.TaskFields(title: "t"), jobId: job.id)
            _ = try await docket.queues.update("default", rateLimit: .some(.init(count: 5, perSeconds: 1)))

            func same<T: Codable>(_ type: T.Type, _ op: ServiceOperation, _ args: [String: JSONValue], member: String? = nil) async throws {
                var raw = try await docket.call(op, args)
                if let member { raw = raw[member] ?? .null }
                let typed = try WireCoding.decode(T.self, from: raw, op: op.name)
                #expect(Self.normalized(try WireCoding.encode(typed)) == Self.normalized(raw), "\(T.self) from \(op.name)")
            }
            try await same(Docket.Job.self, .jobGet, ["job_id": job.id.json])
            try await same([Docket.Run].self, .jobHistory, ["job_id": job.id.json])
            try await same(Docket.Page<Docket.WorkTask>.self, .taskList, [:])
            try await same(Docket.Heartbeat.self, .jobHeartbeat, ["job_id": job.id.json])
            try await same([Docket.Queue].self, .queueList, [:], member: "queues")
            try await same(Docket.ClusterStatus.self, .clusterStatus, [:])
            try await same(Docket.EventPage.self, .eventsList, [:])
        }
    }

    /// A docketd restart: the next call reconnects and authenticates again, and a subscription resumes from its last
    /// `seq` — every event once, in order, none missing.
    @Test func reconnectsAndResumesASubscriptionAcrossARestart() async throws {
        try await withTestDatabase(migrated: false) { endpoint in
            var server = try await Docketd.start(endpoint)
            let port = server.port
            let docket = try await Docket.connect(Docket.Options(port: port, token: try await Self.tenantKey(endpoint),
                                                                 reconnectTimeout: .seconds(30)))
            let subscription = try await docket.subscribe(["job.created"])
            let received = Task { () -> [Int64] in
                var seqs: [Int64] = []
                for try await event in subscription {
                    seqs.append(event.seq)
                    if seqs.count == 20 { break }
                }
                return seqs
            }
            do {
                for index in 0..<10 { _ = try await docket.jobs.create(.init(name: "before-\(index)")) }
                _ = try await server.stop()
                server = try await Docketd.start(endpoint, ["--listen", "127.0.0.1:\(port)"])
                for index in 0..<10 { _ = try await docket.jobs.create(.init(name: "after-\(index)")) }
                let seqs = try await received.value
                let stored = try await docket.events(topics: ["job.created"]).events.map(\.seq)
                #expect(seqs == stored, "the subscription saw every stored event once, in order")
                #expect(docket.connectionCount == 2, "one reconnect")
                #expect(subscription.resumes == 1)
                await docket.close()
                _ = try await server.stop()
            } catch {
                received.cancel()
                await docket.close()
                _ = try? await server.stop()
                throw error
            }
        }
    }

    /// A key of tenant `acme` with every scope.
    static func tenantKey(_ endpoint: DatabaseEndpoint) async throws -> String {
        try await withDatabase(endpoint) { database in
            try await APIKeyService(database: database).create(
                for: Principal(id: "app", type: .service, tenantId: "acme", scopes: [.jobAdmin, .taskAdmin, .clusterAdmin])).token
        }
    }

    /// Events that arrive before their `subscribe` answer is read wait for it; those of a cancelled subscription,
    /// and of a connection that ended, are dropped.
    @Test func theRouterHoldsEarlyEventsAndDropsCancelledOnes() async throws {
        let router = SubscriptionRouter()
        let connection = ObjectIdentifier(router)
        let (signals, sink) = AsyncStream.makeStream(of: SubscriptionSignal.self)
        router.received(.event(subscription: "s1", event: ["seq": 1]), on: connection)
        router.received(.event(subscription: "other", event: ["seq": 2]), on: connection)
        #expect(router.heldCount == 2)
        router.register("s1", connection: connection, sink: sink)
        #expect(router.heldCount == 1, "s1's event went to its subscription")
        router.received(.event(subscription: "s1", event: ["seq": 3]), on: connection)
        router.remove("s1")
        router.received(.event(subscription: "s1", event: ["seq": 4]), on: connection)
        #expect(router.heldCount == 1, "a cancelled subscription's late event is not held")
        router.ended(connection, DocketError(.unavailable, "gone"))
        #expect(router.heldCount == 0)
        sink.finish()
        var seen: [JSONValue] = []
        for await signal in signals {
            if case .event(let event) = signal { seen.append(event["seq"] ?? .null) }
        }
        #expect(seen == [1, 3], "in order, each once, nothing after the cancel")
    }

    /// A JSON value with null members dropped (the models leave nil out) and ids in lower case.
    static func normalized(_ value: JSONValue) -> JSONValue {
        switch value {
        case .object(let members): .object(members.filter { $0.value != .null }.mapValues(normalized))
        case .array(let items): .array(items.map(normalized))
        case .string(let text) where UUID(uuidString: text) != nil: .string(text.lowercased())
        default: value
        }
    }
}
