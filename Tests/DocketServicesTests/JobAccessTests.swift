import DocketCore
import DocketTestSupport
import DocketPostgres
import DocketServices
import Foundation
import Testing

struct JobAccessTests {
    /// Every operation on tenant A's job, attempted by tenant B's admin: refused, and nothing changes. To B, A's job is
    /// indistinguishable from one that does not exist: the same code, message and details as for a random id.
    @Test func otherTenantIsRefusedEverywhere() async throws {
        try await withJobService { jobs, database in
            let job = try await jobs.make("a's job", ["schedule": dueNow])
            let intruder = Actors.otherTenant
            let byID: [(String, @Sendable (UUID) async throws -> Void)] = [
                ("get", { _ = try await jobs.get($0, by: intruder) }),
                ("update", { _ = try await jobs.update($0, Arguments(["name": .string("mine")]), by: intruder) }),
                ("delete", { try await jobs.delete($0, by: intruder) }),
                ("schedule", { _ = try await jobs.schedule($0, schedule: dueNow, by: intruder) }),
                ("start", { _ = try await jobs.start($0, by: intruder) }),
                ("complete", { _ = try await jobs.complete($0, JobOutcome(), by: intruder) }),
                ("fail", { _ = try await jobs.fail($0, errorCode: nil, errorMessage: nil, by: intruder) }),
                ("cancel", { _ = try await jobs.cancel($0, reason: nil, mode: .hard, by: intruder) }),
                ("retry", { _ = try await jobs.retry($0, by: intruder) }),
                ("pause", { _ = try await jobs.pause($0, mode: .hard, by: intruder) }),
                ("resume", { _ = try await jobs.resume($0, by: intruder) }),
                ("checkpoint", { _ = try await jobs.checkpoint($0, Checkpoint(stepIndex: 1), by: intruder) }),
                ("assign_agent", { _ = try await jobs.assignAgent($0, agent: "x", by: intruder) }),
                ("link_task", { _ = try await jobs.linkTask($0, task: UUID(), by: intruder) }),
                ("unlink_task", { _ = try await jobs.unlinkTask($0, task: UUID(), by: intruder) }),
                ("linked_tasks", { _ = try await jobs.linkedTasks($0, by: intruder) }),
                ("history", { _ = try await jobs.history($0, by: intruder) }),
                ("heartbeat", { _ = try await jobs.heartbeat($0, by: intruder) }),
                ("record_metrics", { _ = try await jobs.recordMetrics($0, ttftNs: 1, totalDurationNs: 1, by: intruder) }),
            ]
            for (name, attempt) in byID {
                let theirs = await refusal { try await attempt(job.id) }
                let missing = UUID()
                let none = await refusal { try await attempt(missing) }
                #expect(theirs?.code == .jobNotFound, "\(name)")
                #expect(theirs.map { anonymized($0, job.id) } == none.map { anonymized($0, missing) },
                        "\(name): another tenant's job answers as a missing one")
            }
            // Naming another tenant outright is refused as such (it says nothing about any job).
            let byTenant: [(String, @Sendable () async throws -> Void)] = [
                ("list in a", { _ = try await jobs.list(JobFilter(), page: PageRequest(), tenant: "a", by: intruder) }),
                ("pending in a", { _ = try await jobs.pending(page: PageRequest(), tenant: "a", by: intruder) }),
                ("running in a", { _ = try await jobs.running(page: PageRequest(), tenant: "a", by: intruder) }),
                ("claim in a", { _ = try await jobs.claim(tenant: "a", by: intruder) }),
                ("budget in a", { _ = try await jobs.setBudget(limit: .zero, period: .day, tenant: "a", by: intruder) }),
            ]
            for (name, attempt) in byTenant {
                #expect(await errorCode(attempt) == .permissionDenied, "\(name)")
            }
            // Tenant B's own views do not show the job either.
            #expect(try await jobs.list(JobFilter(), page: PageRequest(), by: intruder).items.isEmpty)
            #expect(try await jobs.claim(by: intruder).isEmpty)
            let after = try await jobs.get(job.id, by: Actors.admin)
            #expect(after == job, "nothing changed")
            #expect(try await topics(of: job.id, in: database) == ["job.created", "job.scheduled"])
        }
    }

    @Test func scopesGateOperations() async throws {
        try await withJobService { jobs, _ in
            let job = try await jobs.make()
            // job:read cannot write.
            #expect(await errorCode { _ = try await jobs.update(job.id, Arguments(["name": .string("x")]), by: Actors.reader) } == .permissionDenied)
            #expect(await errorCode { _ = try await jobs.make("x", by: Actors.reader) } == .permissionDenied)
            // job:write cannot start.
            #expect(await errorCode { _ = try await jobs.start(job.id, by: Actors.writer) } == .permissionDenied)
            // job:execute cannot delete.
            #expect(await errorCode { try await jobs.delete(job.id, by: Actors.executor) } == .permissionDenied)
            // budgets need cluster:admin.
            #expect(await errorCode { _ = try await jobs.setBudget(limit: .zero, period: .day, by: Actors.admin) } == .permissionDenied)
            // job:admin can do all of it.
            _ = try await jobs.update(job.id, Arguments(["name": .string("renamed")]), by: Actors.admin)
            _ = try await jobs.start(job.id, by: Actors.admin)
            _ = try await jobs.cancel(job.id, reason: nil, mode: .hard, by: Actors.admin)
            try await jobs.delete(job.id, by: Actors.admin)
            // A system actor reaches every tenant but must name one to create.
            #expect(await errorCode { _ = try await jobs.make("sys", by: Actors.system) } == .validationError)
            let made = try await jobs.make("sys", ["tenant_id": .string("b")], by: Actors.system)
            #expect(made.tenantId == "b")
            #expect(try await jobs.get(made.id, by: Actors.system).id == made.id)
        }
    }

    @Test func budgetGateRefusesAtTheBoundaryNotPastIt() async throws {
        try await withJobService { jobs, _ in
            _ = try await jobs.setBudget(limit: try Money("1.00", field: "limit"), period: .day, by: Actors.budgetAdmin)
            let first = try await jobs.make("a", ["estimated_cost": .string("0.60")])
            let second = try await jobs.make("b", ["estimated_cost": .string("0.40")])
            let third = try await jobs.make("c", ["estimated_cost": .string("0.01")])
            _ = try await jobs.start(first.id, by: Actors.executor)
            _ = try await jobs.start(second.id, by: Actors.executor)  // exactly 1.00: allowed
            #expect(await errorCode { _ = try await jobs.start(third.id, by: Actors.executor) } == .budgetExceeded)
            #expect(try await jobs.get(third.id, by: Actors.reader).status == .draft, "a refused start changes nothing")
            let (budget, spent) = try await jobs.budget(by: Actors.budgetAdmin)
            #expect(budget.limit.description == "1.00")
            #expect(spent.description == "1.00")
            // Actual cost replaces the estimate once known.
            _ = try await jobs.complete(first.id, JobOutcome(actualCost: try Money("0.50", field: "c")), by: Actors.executor)
            _ = try await jobs.start(third.id, by: Actors.executor)
            #expect(await errorCode { _ = try await jobs.budget(by: Principal(id: "x", type: .user, tenantId: "z", scopes: [.clusterAdmin])) } == .notFound)
        }
    }

    @Test func linksGateStartAndCompletion() async throws {
        try await withJobService { jobs, database in
            let job = try await jobs.make()
            let prerequisite = UUID(), primary = UUID(), foreign = UUID()
            try await database.transaction { connection in
                for (id, tenant) in [(prerequisite, "a"), (primary, "a"), (foreign, "b")] {
                    try await connection.query("""
                        INSERT INTO docket.tasks (id, tenant_id, title, owner_id) VALUES (\(id), \(tenant), 't', 'u1')
                        """, logger: database.logger)
                }
            }
            _ = try await jobs.linkTask(job.id, task: prerequisite, relationship: .prerequisite, by: Actors.writer)
            _ = try await jobs.linkTask(job.id, task: primary, relationship: .primary, by: Actors.writer)
            #expect(await errorCode { _ = try await jobs.linkTask(job.id, task: foreign, by: Actors.writer) } == .taskNotFound)
            #expect(try await jobs.linkedTasks(job.id, by: Actors.reader).count == 2)

            #expect(await errorCode { _ = try await jobs.start(job.id, by: Actors.executor) } == .dependencyError)
            try await database.transaction { connection in
                try await connection.query("UPDATE docket.tasks SET status = 'completed' WHERE id = \(prerequisite)", logger: database.logger)
            }
            _ = try await jobs.start(job.id, by: Actors.executor)
            #expect(await errorCode { _ = try await jobs.complete(job.id, JobOutcome(), by: Actors.executor) } == .dependencyError)
            _ = try await jobs.unlinkTask(job.id, task: primary, by: Actors.writer)
            #expect(await errorCode { _ = try await jobs.unlinkTask(job.id, task: primary, by: Actors.writer) } == .notFound)
            #expect(try await jobs.complete(job.id, JobOutcome(), by: Actors.executor).status == .succeeded)
        }
    }
}
