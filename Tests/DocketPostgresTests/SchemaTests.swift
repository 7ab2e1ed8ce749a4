import DocketCore
import DocketTestSupport
import Foundation
import Logging
import PostgresNIO
import Testing
@testable import DocketPostgres

/// The schema refuses bad rows by itself, whatever the services do.
struct SchemaTests {
    let logger = Logger(label: "test.schema")

    /// Runs `sql` and returns the SQLSTATE it failed with, or nil when it succeeded.
    func sqlState(_ sql: String, on connection: PostgresConnection) async -> String? {
        do {
            try await connection.query(PostgresQuery(unsafeSQL: sql), logger: logger)
            return nil
        } catch let error as PSQLError {
            return error.serverInfo?[.sqlState] ?? "unknown"
        } catch {
            return "unknown"
        }
    }

    func job(id: String = UUID().uuidString, tenant: String = "a", status: String = "draft", priority: Int = 50,
             cost: String = "NULL", extra: String = "") -> String {
        """
        INSERT INTO docket.jobs (id, tenant_id, name, status, priority, estimated_cost, created_by\(extra.isEmpty ? "" : ", next_run_at"))
        VALUES ('\(id)', '\(tenant)', 'j', '\(status)', \(priority), \(cost), 'tester'\(extra.isEmpty ? "" : ", \(extra)"))
        """
    }

    @Test func refusesBadJobRows() async throws {
        try await withTestDatabase { endpoint in
            try await endpoint.withConnection(logger: logger) { c in
                #expect(await sqlState(job(), on: c) == nil)
                #expect(await sqlState(job(status: "exploded"), on: c) == "23514")
                #expect(await sqlState(job(priority: 0), on: c) == "23514")
                #expect(await sqlState(job(priority: 101), on: c) == "23514")
                #expect(await sqlState(job(priority: 1), on: c) == nil)
                #expect(await sqlState(job(priority: 100), on: c) == nil)
                #expect(await sqlState(job(cost: "-0.01"), on: c) == "23514")
                #expect(await sqlState(job(cost: "0.10"), on: c) == nil)
                #expect(await sqlState(job(status: "scheduled"), on: c) == "23514", "scheduled needs next_run_at")
                #expect(await sqlState(job(status: "scheduled", extra: "now()"), on: c) == nil)
                #expect(await sqlState(job(tenant: ""), on: c) == "23514")
            }
        }
    }

    @Test func refusesBadTaskRunBudgetAndKeyRows() async throws {
        try await withTestDatabase { endpoint in
            try await endpoint.withConnection(logger: logger) { c in
                let jobID = UUID().uuidString
                #expect(await sqlState(job(id: jobID), on: c) == nil)
                func task(_ id: String, tenant: String = "a", status: String = "pending", priority: Int = 50,
                          parent: String = "NULL") -> String {
                    """
                    INSERT INTO docket.tasks (id, tenant_id, title, status, priority, owner_id, parent_id)
                    VALUES ('\(id)', '\(tenant)', 't', '\(status)', \(priority), 'u1', \(parent))
                    """
                }
                let parent = UUID().uuidString
                #expect(await sqlState(task(parent), on: c) == nil)
                #expect(await sqlState(task(UUID().uuidString, status: "done"), on: c) == "23514")
                #expect(await sqlState(task(UUID().uuidString, priority: 0), on: c) == "23514")
                #expect(await sqlState(task(UUID().uuidString, priority: 101), on: c) == "23514")
                #expect(await sqlState(task(UUID().uuidString, tenant: "b", parent: "'\(parent)'"), on: c) == "23503",
                        "a subtask cannot live in another tenant")
                let other = UUID().uuidString
                #expect(await sqlState(task(other, tenant: "b"), on: c) == nil)
                #expect(await sqlState("""
                    INSERT INTO docket.task_dependencies (task_id, depends_on_id, tenant_id)
                    VALUES ('\(parent)', '\(other)', 'a')
                    """, on: c) == "23503", "no dependency across tenants")
                #expect(await sqlState("""
                    INSERT INTO docket.task_dependencies (task_id, depends_on_id, tenant_id)
                    VALUES ('\(parent)', '\(parent)', 'a')
                    """, on: c) == "23514")

                let run = """
                    INSERT INTO docket.job_runs (id, job_id, tenant_id, run_number, attempt, scheduled_for)
                    VALUES (gen_random_uuid(), '\(jobID)', 'a', 1, 1, '2026-01-01T00:00:00Z')
                    """
                #expect(await sqlState(run, on: c) == nil)
                #expect(await sqlState(run, on: c) == "23505", "one run per (job, slot, attempt)")
                #expect(await sqlState("""
                    INSERT INTO docket.job_runs (id, job_id, tenant_id, run_number, attempt, scheduled_for, status, finished_at, actual_cost)
                    VALUES (gen_random_uuid(), '\(jobID)', 'a', 2, 1, now(), 'succeeded', now(), -1)
                    """, on: c) == "23514")

                #expect(await sqlState("INSERT INTO docket.budgets (tenant_id, limit_amount, period) VALUES ('a', -5, 'day')", on: c) == "23514")
                #expect(await sqlState("INSERT INTO docket.budgets (tenant_id, limit_amount, period) VALUES ('a', 5, 'week')", on: c) == "23514")
                #expect(await sqlState("INSERT INTO docket.budgets (tenant_id, limit_amount, period) VALUES ('a', 5, 'day')", on: c) == nil)
                #expect(await sqlState("""
                    INSERT INTO docket.api_keys (id, key_hash, actor_id, actor_type, tenant_id, scopes)
                    VALUES ('k1', '\\x00', 'u1', 'user', 'a', ARRAY['job:read', 'job:everything'])
                    """, on: c) == "23514")
            }
        }
    }

    @Test func deletingAJobClearsTaskJobIdAndLinks() async throws {
        try await withTestDatabase { endpoint in
            try await endpoint.withConnection(logger: logger) { c in
                let jobID = UUID().uuidString, taskID = UUID().uuidString
                #expect(await sqlState(job(id: jobID), on: c) == nil)
                #expect(await sqlState("""
                    INSERT INTO docket.tasks (id, tenant_id, title, owner_id, job_id) VALUES ('\(taskID)', 'a', 't', 'u1', '\(jobID)')
                    """, on: c) == nil)
                #expect(await sqlState("""
                    INSERT INTO docket.job_tasks (job_id, task_id, tenant_id) VALUES ('\(jobID)', '\(taskID)', 'a')
                    """, on: c) == nil)
                #expect(await sqlState("DELETE FROM docket.jobs WHERE id = '\(jobID)'", on: c) == nil)
                let row = try await c.query("""
                    SELECT tenant_id, job_id IS NULL, (SELECT count(*)::int FROM docket.job_tasks) FROM docket.tasks
                    """, logger: logger).collect().first?.decode((String, Bool, Int).self)
                #expect(row?.0 == "a", "the task keeps its tenant")
                #expect(row?.1 == true)
                #expect(row?.2 == 0)
            }
        }
    }

    @Test func psqlShowsTheDocumentedTables() async throws {
        try await withTestDatabase { endpoint in
            let psql = try PostgresBinaries.locate().path("psql")
            let client = FileManager.default.isExecutableFile(atPath: psql) ? psql : "/usr/bin/psql"
            let (folder, port) = endpoint.address.socketFolderAndPort
            let output = try await Command(executable: client, arguments: [
                "-X", "-A", "-t", "-h", folder, "-p", port, "-U", endpoint.username, "-d", endpoint.database,
                "-c", "SELECT tablename FROM pg_tables WHERE schemaname = 'docket' ORDER BY 1",
            ]).runAsync().text
            let tables = output.split(separator: "\n").map(String.init)
            #expect(tables == ["api_keys", "budgets", "callback_secrets", "events", "instances", "job_requests", "job_runs", "job_tasks", "jobs",
                               "leadership", "queues", "schema_migrations", "server_secrets", "sweep_runs", "task_dependencies", "tasks"])
            let documented = try String(contentsOfFile: packageRoot + "/docs/schema.md", encoding: .utf8)
            for table in tables {
                #expect(documented.contains("`docket.\(table)`"), "docs/schema.md describes \(table)")
            }
        }
    }
}

/// The package's root folder, found from this file's path.
let packageRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
    .deletingLastPathComponent().path

extension SchemaTests {
    @Test func everyIndexIsDocumented() async throws {
        let documented = try String(contentsOfFile: packageRoot + "/docs/schema.md", encoding: .utf8)
        try await withTestDatabase { endpoint in
            let names = try await endpoint.withConnection(logger: logger) { connection in
                var names: [String] = []
                let rows = try await connection.query(
                    "SELECT indexname FROM pg_indexes WHERE schemaname = 'docket' ORDER BY 1", logger: logger)
                for try await name in rows.decode(String.self) { names.append(name) }
                return names
            }
            #expect(names.count > 30)
            for name in names where name != "schema_migrations_pkey" {
                #expect(documented.contains("`\(name)`"), "docs/schema.md describes index \(name)")
            }
        }
    }
}
