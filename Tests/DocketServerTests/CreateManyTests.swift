import DocketClient
import DocketCore
import DocketPostgres
import DocketTestSupport
import Foundation
import Testing

extension QueueSuites {
    /// `job.create_many`: one transaction, all or nothing, in input order.
    @Suite struct CreateManyTests {
        let t: JSONValue = .string("t")

        func counts(_ endpoint: DatabaseEndpoint) async throws -> (jobs: Int, created: Int, scheduled: Int) {
            try await withDatabase(endpoint) { database in
                try await database.read { connection in
                    try await connection.query("""
                        SELECT (SELECT count(*)::int FROM docket.jobs),
                               (SELECT count(*)::int FROM docket.events WHERE topic = 'job.created'),
                               (SELECT count(*)::int FROM docket.events WHERE topic = 'job.scheduled')
                        """, logger: database.logger).collect().first!.decode((Int, Int, Int).self)
                }
            }
        }

        @Test func aThousandJobsInOneCallWithTheirEvents() async throws {
            try await withDocketd { server, endpoint in
                let client = try await server.client()
                defer { Task { await client.close() } }
                let jobs: [JSONValue] = (0..<1000).map { index in
                    var job: [String: JSONValue] = ["name": .string("bulk-\(index)"), "queue": .string(index % 2 == 0 ? "even" : "odd"),
                                                    "kind": .string("Bulk"), "args": .object(["n": .number(Double(index))])]
                    if index == 7 { job["schedule"] = .object(["kind": .string("interval"), "every_seconds": .number(3600)]) }
                    return .object(job)
                }
                let answer = try await client.call("job.create_many", ["tenant_id": t, "jobs": .array(jobs)])
                let created = answer["jobs"]?.list ?? []
                #expect(created.count == 1000)
                #expect(created.map { $0["name"] } == (0..<1000).map { .string("bulk-\($0)") }, "in input order")
                #expect(created[3]["queue"] == .string("odd") && created[3]["args"] == .object(["n": .number(3)]))
                #expect(created[7]["status"] == .string("scheduled") && created[7]["next_run_at"] != .null)
                #expect(created[8]["status"] == .string("draft"))
                let stored = try await client.call("job.get", ["job_id": created[999]["id"]!, "tenant_id": t])
                #expect(stored["kind"] == .string("Bulk") && stored["args"] == .object(["n": .number(999)]))
                let (jobCount, createdEvents, scheduledEvents) = try await counts(endpoint)
                #expect(jobCount == 1000)
                #expect(createdEvents == 1000, "one job.created each")
                #expect(scheduledEvents == 1, "job.scheduled for the scheduled one")
            }
        }

        @Test func oneBadJobCreatesNoneAndIsNamed() async throws {
            try await withDocketd { server, endpoint in
                let client = try await server.client()
                defer { Task { await client.close() } }
                let cases: [(index: Int, bad: JSONValue, field: String, code: DocketError.Code)] = [
                    (537, .object(["queue": .string("no-name")]), "name", .validationError),
                    (0, .object(["name": .string("x"), "queue": .string("Bad Queue")]), "queue", .validationError),
                    (999, .object(["name": .string("x"), "unknown": .bool(true)]), "unknown", .validationError),
                    (12, .string("not an object"), "jobs", .validationError),
                    (40, .object(["name": .string("x"), "schedule": .object(["kind": .string("cron"), "expression": .string("61 * * * *")])]),
                     "schedule", .scheduleError),
                ]
                for item in cases {
                    var jobs: [JSONValue] = (0..<1000).map { .object(["name": .string("ok-\($0)")]) }
                    jobs[item.index] = item.bad
                    do {
                        try await client.call("job.create_many", ["tenant_id": t, "jobs": .array(jobs)])
                        Issue.record("a batch with a bad job at \(item.index) must be refused")
                    } catch let error as DocketError {
                        #expect(error.code == item.code, "\(item.bad)")
                        #expect(error.details["index"] == .number(Double(item.index)), "names the job at fault: \(error)")
                        if item.code == .validationError { #expect(error.details["field"] == .string(item.field), "\(error)") }
                    }
                }
                for refused in [JSONValue.array([]), .array((0...1000).map { .object(["name": .string("j\($0)")]) }), .string("x")] {
                    await #expect(throws: DocketError.self) { try await client.call("job.create_many", ["tenant_id": t, "jobs": refused]) }
                }
                #expect(try await counts(endpoint).jobs == 0, "nothing was created")
            }
        }

        @Test func idempotencyKeysAndTenants() async throws {
            try await withDocketd { server, _ in
                let client = try await server.client()
                defer { Task { await client.close() } }
                let first = try await client.call("job.create", ["name": .string("first"), "tenant_id": t, "idempotency_key": .string("k1")])
                let answer = try await client.call("job.create_many", ["tenant_id": t, "jobs": .array([
                    .object(["name": .string("again"), "idempotency_key": .string("k1")]),
                    .object(["name": .string("new"), "idempotency_key": .string("k2")]),
                    .object(["name": .string("elsewhere"), "tenant_id": .string("u"), "idempotency_key": .string("k1")]),
                ])])
                let jobs = answer["jobs"]?.list ?? []
                #expect(jobs.count == 3)
                #expect(jobs[0]["id"] == first["id"], "a known key gives the first job in its place")
                #expect(jobs[1]["name"] == .string("new"))
                #expect(jobs[2]["tenant_id"] == .string("u") && jobs[2]["name"] == .string("elsewhere"), "keys are per tenant")
                do {
                    try await client.call("job.create_many", ["tenant_id": t, "jobs": .array([
                        .object(["name": .string("a"), "idempotency_key": .string("twice")]),
                        .object(["name": .string("b"), "idempotency_key": .string("twice")]),
                    ])])
                    Issue.record("a key twice in one batch must be refused")
                } catch let error as DocketError {
                    #expect(error.code == .validationError && error.details["index"] == .number(1))
                }
            }
        }
    }
}
