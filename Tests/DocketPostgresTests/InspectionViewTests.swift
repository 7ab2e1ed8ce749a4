import DocketCore
import DocketTestSupport
import Foundation
import Logging
import PostgresNIO
import Testing
@testable import DocketPostgres

/// Every inspection view of migration 0005 (docs/operations.md), read after setting up what it should show.
struct InspectionViewTests {
    let logger = Logger(label: "test.views")

    func run(_ sql: String, _ connection: PostgresConnection) async throws {
        try await connection.query(PostgresQuery(unsafeSQL: sql), logger: logger)
    }

    func rows(_ sql: String, _ connection: PostgresConnection) async throws -> [PostgresRow] {
        try await connection.query(PostgresQuery(unsafeSQL: sql), logger: logger).collect()
    }

    @Test func jobOverviewAndStuckJobs() async throws {
        try await withTestDatabase { endpoint in
            try await endpoint.withConnection(logger: logger) { c in
                try await run("""
                    INSERT INTO docket.jobs (id, tenant_id, name, status, created_by, next_run_at, started_at, deadline_at,
                        lease_expires_at, claimed_by, actual_cost)
                    VALUES
                      (gen_random_uuid(), 'a', 'ok', 'running', 'x', NULL, now(), now() + interval '1 hour', NULL, NULL, 1.5),
                      (gen_random_uuid(), 'a', 'late', 'running', 'x', NULL, now() - interval '2 hours', now() - interval '1 minute', NULL, NULL, 2),
                      (gen_random_uuid(), 'a', 'lost worker', 'running', 'x', NULL, now(), NULL, now() - interval '5 seconds', 'w1', NULL),
                      (gen_random_uuid(), 'a', 'overdue', 'scheduled', 'x', now() - interval '10 minutes', NULL, NULL, NULL, NULL, NULL),
                      (gen_random_uuid(), 'b', 'future', 'scheduled', 'x', now() + interval '1 day', NULL, NULL, NULL, NULL, NULL)
                    """, c)
                let overview = try await rows("SELECT tenant_id, status, jobs, claimed, actual_cost::text FROM docket.job_overview ORDER BY 1, 2", c)
                let decoded = try overview.map { try $0.decode((String, String, Int, Int, String?).self) }
                #expect(decoded.count == 3)
                #expect(decoded[0].0 == "a" && decoded[0].1 == "running" && decoded[0].2 == 3 && decoded[0].3 == 1)
                #expect(decoded[0].4 == "3.500000")
                #expect(decoded[1].0 == "a" && decoded[1].1 == "scheduled" && decoded[1].2 == 1)
                #expect(decoded[2].0 == "b" && decoded[2].2 == 1)

                let stuck = try await rows("SELECT name, reason FROM docket.stuck_jobs ORDER BY name", c)
                let reasons = try stuck.map { try $0.decode((String, String).self) }
                #expect(Set(reasons.map(\.0)) == ["late", "lost worker", "overdue"], "the healthy and the future job are not listed")
                #expect(reasons.contains { $0 == ("late", "past its timeout") })
                #expect(reasons.contains { $0 == ("late", "running unclaimed for over 10 minutes") })
                #expect(reasons.contains { $0 == ("lost worker", "worker lease expired") })
                #expect(reasons.contains { $0 == ("overdue", "due but not started") })
            }
        }
    }

    @Test func leadershipInstancesAndSweeps() async throws {
        try await withTestDatabase { endpoint in
            try await endpoint.withConnection(logger: logger) { c in
                // This session plays the leader: it holds the election lock and is recorded as the holder.
                try await run("SELECT pg_advisory_lock(\(AdvisoryLockKey.docketNamespace), 2)", c)
                try await run("""
                    INSERT INTO docket.instances (id, address, version, status, heartbeat_at)
                    VALUES ('11111111-aaaa', '127.0.0.1:7420', '0.1.0', 'active', now() - interval '2 seconds'),
                           ('22222222-bbbb', '127.0.0.1:7430', '0.1.0', 'gone', now() - interval '1 hour')
                    """, c)
                try await run("""
                    INSERT INTO docket.leadership (name, instance_id, epoch, backend_pid, elected_at, heartbeat_at)
                    VALUES ('default', '11111111-aaaa', 7, pg_backend_pid(), now(), now())
                    ON CONFLICT (name) DO UPDATE SET instance_id = excluded.instance_id, epoch = 7, backend_pid = pg_backend_pid(),
                        heartbeat_at = now()
                    """, c)
                try await run("""
                    INSERT INTO docket.sweep_runs (kind, instance_id, epoch, last_run_at, changed, duration_ms)
                    VALUES ('timeouts', '11111111-aaaa', 7, now() - interval '3 seconds', 2, 1.5)
                    """, c)
                let leadership = try await rows("SELECT instance_id, epoch, lock_held, address FROM docket.leadership_status", c)
                let leader = try #require(try leadership.first?.decode((String, Int64, Bool, String?).self))
                #expect(leader.0 == "11111111-aaaa" && leader.1 == 7 && leader.2 && leader.3 == "127.0.0.1:7420")
                try await run("SELECT pg_advisory_unlock(\(AdvisoryLockKey.docketNamespace), 2)", c)
                let released = try await rows("SELECT lock_held FROM docket.leadership_status", c)
                #expect(try released.first?.decode(Bool.self) == false, "a recorded leader without the lock shows lock_held false")

                let instances = try await rows("""
                    SELECT id, status, is_leader, extract(epoch FROM heartbeat_age)::float8, listener_connected
                    FROM docket.instance_health ORDER BY id
                    """, c)
                let health = try instances.map { try $0.decode((String, String, Bool, Double, Bool).self) }
                #expect(health.count == 2)
                #expect(health[0].0 == "11111111-aaaa" && health[0].2 && health[0].3 >= 1.9 && !health[0].4)
                #expect(health[1].1 == "gone" && !health[1].2 && health[1].3 > 3000)

                let sweeps = try await rows("SELECT kind, extract(epoch FROM age)::float8, changed FROM docket.sweep_status", c)
                let sweep = try #require(try sweeps.first?.decode((String, Double, Int).self))
                #expect(sweep.0 == "timeouts" && sweep.1 >= 2.9 && sweep.2 == 2)
            }
        }
    }

    @Test func eventLagShowsWhatAnOpenWriterHoldsBack() async throws {
        try await withTestDatabase { endpoint in
            let insert = """
                INSERT INTO docket.events (id, topic, tenant_id, entity_type, entity_id)
                VALUES (gen_random_uuid(), 'job.updated', 't', 'job', 'x')
                """
            try await endpoint.withConnection(logger: logger) { writer in
                try await endpoint.withConnection(logger: logger) { c in
                    try await run(insert, c)
                    let idle = try await rows("SELECT last_seq, horizon, held_back, open_writers FROM docket.event_lag", c)
                    let before = try #require(try idle.first?.decode((Int64?, Int64, Int, Int).self))
                    #expect(before.0 == before.1 && before.2 == 0 && before.3 == 0)

                    try await run("BEGIN", writer)
                    try await run(insert, writer)
                    try await run(insert, c)
                    try await run(insert, c)
                    let busy = try await rows("SELECT last_seq, horizon, held_back, open_writers, oldest_writer_pid FROM docket.event_lag", c)
                    let during = try #require(try busy.first?.decode((Int64?, Int64, Int, Int, Int32?).self))
                    #expect(during.2 == 2, "the two events committed after the open writer's seq wait behind it")
                    #expect(during.3 == 1)
                    #expect(during.4 != nil)
                    try await run("COMMIT", writer)
                    let after = try await rows("SELECT held_back, open_writers FROM docket.event_lag", c)
                    let settled = try #require(try after.first?.decode((Int, Int).self))
                    #expect(settled.0 == 0 && settled.1 == 0)
                }
            }
        }
    }

    @Test func callbackQueueListsUndeliveredCallbacks() async throws {
        try await withTestDatabase { endpoint in
            try await endpoint.withConnection(logger: logger) { c in
                try await run("""
                    INSERT INTO docket.jobs (id, tenant_id, name, status, created_by, callback_url, callback, callback_due_at)
                    VALUES
                      (gen_random_uuid(), 'a', 'waiting', 'succeeded', 'x', 'https://example.com/h',
                       '{"state": "pending", "delivery_id": "8d0f2f7e-7b7e-4a8e-9d55-1f0c3e2a1b11", "attempts": 2, "status_code": 500, "error": "HTTP 500"}',
                       now()),
                      (gen_random_uuid(), 'a', 'done', 'succeeded', 'x', 'https://example.com/h',
                       '{"state": "delivered", "delivery_id": "9d0f2f7e-7b7e-4a8e-9d55-1f0c3e2a1b11", "attempts": 1, "status_code": 200}',
                       NULL)
                    """, c)
                let queue = try await rows("SELECT state, attempts, last_status_code, last_error FROM docket.callback_queue", c)
                let entries = try queue.map { try $0.decode((String, Int, String?, String?).self) }
                #expect(entries.count == 1)
                #expect(entries.first?.0 == "pending" && entries.first?.1 == 2 && entries.first?.2 == "500")
            }
        }
    }
}
