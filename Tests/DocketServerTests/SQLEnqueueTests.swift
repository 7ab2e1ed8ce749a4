import DocketClient
import DocketCore
import DocketPostgres
import DocketServices
import DocketTestSupport
import DocketWorker
import Foundation
import Logging
import PostgresNIO
import ServiceLifecycle
import Testing

/// `docket.enqueue()` from an application's own transaction (docs/sql-enqueue.md), against one real docketd and a
/// worker: rolled back leaves nothing, committed is claimed within a second, a bad request is refused with
/// `job.create`'s code, and the role can do nothing else.
@Suite(.serialized)
struct SQLEnqueueTests {
    static let logger = Logger(label: "test.sql-enqueue")

    /// An application's login role, a member of docket_enqueue and nothing more.
    static func applicationRole(_ endpoint: DatabaseEndpoint) async throws -> DatabaseEndpoint {
        let name = "app_\(UInt32.random(in: 0...UInt32.max))"
        try await endpoint.withConnection(logger: logger) { connection in
            _ = try await connection.query("CREATE ROLE \(unescaped: name) LOGIN IN ROLE docket_enqueue", logger: logger)
        }
        var application = endpoint
        application.username = name
        return application
    }

    static func dropRole(_ application: DatabaseEndpoint, via endpoint: DatabaseEndpoint) async {
        try? await endpoint.withConnection(logger: logger) { connection in
            _ = try await connection.query("DROP ROLE IF EXISTS \(unescaped: application.username)", logger: logger)
        }
    }

    /// Calls docket.enqueue in a transaction of the application's, then commits or rolls back.
    static func enqueue(_ application: DatabaseEndpoint, kind: String, args: String = "{}", options: String = "{}",
                        commit: Bool) async throws -> UUID {
        try await application.withConnection(logger: logger) { connection in
            _ = try await connection.query("BEGIN", logger: logger)
            var id: UUID?
            let rows = try await connection.query(
                "SELECT docket.enqueue(\("acme"), \(kind), \(args)::jsonb, \(options)::jsonb)", logger: logger)
            for try await value in rows.decode(UUID.self) { id = value }
            _ = try await connection.query(commit ? "COMMIT" : "ROLLBACK", logger: logger)
            return try #require(id)
        }
    }

    /// What `docket.enqueue_status` says of a request, as the application reads it.
    static func status(_ application: DatabaseEndpoint, _ id: UUID) async throws -> (String, String?)? {
        try await application.withConnection(logger: logger) { connection in
            let rows = try await connection.query("SELECT status, error_code FROM docket.enqueue_status(\(id))", logger: logger)
            for try await (status, code) in rows.decode((String, String?).self) { return (status, code) }
            return nil
        }
    }

    static func tenantKey(_ endpoint: DatabaseEndpoint) async throws -> String {
        try await withDatabase(endpoint) { database in
            try await APIKeyService(database: database).create(
                for: Principal(id: "app", type: .service, tenantId: "acme", scopes: [.jobAdmin])).token
        }
    }

    @Test func anEnqueueExistsIfAndOnlyIfItsTransactionCommits() async throws {
        try await withDocketd { server, endpoint in
            let application = try await Self.applicationRole(endpoint)
            let token = try await Self.tenantKey(endpoint)
            let docket = try await Docket.connect(port: server.port, token: token)
            let worker = try Worker(docket: try await Docket.connect(port: server.port, token: token),
                                    handlers: ["mail": { context in JobResult(output: context.args["to"]) }],
                                    options: WorkerOptions(concurrency: 4, leaseSeconds: 10, heartbeatInterval: .seconds(1), agent: "mailer"))
            let group = ServiceGroup(services: [worker], gracefulShutdownSignals: [], cancellationSignals: [], logger: Self.logger)
            let running = Task { try await group.run() }
            do {
                // Rolled back: no request, no job, no event.
                let rolledBack = try await Self.enqueue(application, kind: "mail", args: #"{"to": "nobody"}"#, commit: false)
                #expect(try await Self.status(application, rolledBack) == nil)
                await #expect(throws: DocketError.self) { try await docket.jobs.get(rolledBack) }

                // Committed: the worker has it within a second.
                let committed = try await Self.enqueue(application, kind: "mail", args: #"{"to": "a@example.com"}"#, commit: true)
                let committedAt = Date()
                let done = try await eventually(.seconds(10), every: .milliseconds(20)) { () async throws -> Docket.Job? in
                    let job = try? await docket.jobs.get(committed)
                    return job?.status == .succeeded ? job : nil
                }
                let startedAt = try #require(done.startedAt)
                #expect(startedAt.timeIntervalSince(committedAt) < 1, "claimed \(startedAt.timeIntervalSince(committedAt)) s after the commit")
                print(String(format: "sql enqueue: commit → start %.1f ms", startedAt.timeIntervalSince(committedAt) * 1000))
                #expect(done.output == "a@example.com" && done.kind == "mail" && done.createdBy.hasPrefix("sql:"))
                #expect(try await Self.status(application, committed)?.0 == "created")
                let events = try await docket.events(topics: ["job.*"]).events
                #expect(events.contains { $0.entityId == committed.uuidString.lowercased() && $0.topic == "job.created" })
                #expect(!events.contains { $0.entityId == rolledBack.uuidString.lowercased() }, "no event of the rolled-back request")

                // Refused with the code job.create gives for the same arguments.
                for (options, field) in [(#"{"priority": 500}"#, "priority"), (#"{"schedule": {"kind": "weekly"}}"#, "schedule"),
                                         (#"{"queue": "Not A Queue"}"#, "queue")] {
                    let refused = try await Self.enqueue(application, kind: "mail", options: options, commit: true)
                    let seen = try await eventually(.seconds(10), every: .milliseconds(20)) { () async throws -> (String, String?)? in
                        let state = try await Self.status(application, refused)
                        return state?.0 == "pending" ? nil : state
                    }
                    var direct = Docket.NewJob(name: "mail", kind: "mail")
                    switch field {
                    case "priority": direct.priority = 500
                    case "schedule": direct.schedule = ["kind": "weekly"]
                    default: direct.queue = "Not A Queue"
                    }
                    var expected: String?
                    do { _ = try await docket.jobs.create(direct) } catch let error as DocketError { expected = error.code.rawValue }
                    #expect(seen.0 == "refused" && seen.1 != nil && seen.1 == expected, "\(field): \(seen) vs job.create's \(expected ?? "-")")
                    await #expect(throws: DocketError.self) { try await docket.jobs.get(refused) }
                }
            } catch {
                await group.triggerGracefulShutdown()
                _ = try? await running.value
                await Self.dropRole(application, via: endpoint)
                throw error
            }
            await group.triggerGracefulShutdown()
            try await running.value
            await docket.close()
            await Self.dropRole(application, via: endpoint)
        }
    }

    @Test func theRoleCanEnqueueAndNothingElse() async throws {
        try await withDocketd { _, endpoint in
            let application = try await Self.applicationRole(endpoint)
            defer { Task { await Self.dropRole(application, via: endpoint) } }
            try await application.withConnection(logger: Self.logger) { connection in
                for statement: PostgresQuery in [
                    "SELECT count(*) FROM docket.jobs", "SELECT count(*) FROM docket.events", "SELECT count(*) FROM docket.job_requests",
                    "SELECT count(*) FROM docket.api_keys",
                    "INSERT INTO docket.job_requests (job_id, tenant_id, arguments, requested_by) VALUES (gen_random_uuid(), 'acme', '{}', 'x')",
                    "UPDATE docket.jobs SET priority = 1", "DELETE FROM docket.job_requests",
                ] {
                    do {
                        _ = try await connection.query(statement, logger: Self.logger)
                        Issue.record("the enqueue role may not run: \(statement.sql)")
                    } catch let error as PSQLError {
                        #expect(error.serverInfo?[.sqlState] == "42501", "permission denied for \(statement.sql): \(String(reflecting: error))")
                    }
                }
            }
            // What it may do still works.
            let id = try await Self.enqueue(application, kind: "mail", commit: true)
            #expect(try await Self.status(application, id) != nil)
        }
    }
}
