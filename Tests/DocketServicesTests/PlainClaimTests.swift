import DocketCore
import DocketPostgres
import DocketServices
import DocketTestSupport
import Foundation
import Testing

/// The one-statement claim: the same start as the transactional path, taken only when no gate applies.
struct PlainClaimTests {
    /// The same worker identity as `Actors.executor`, in tenant b (events record who acted).
    static let workerB = Principal(id: "worker-a", type: .agent, tenantId: "b", scopes: [.jobExecute])
    static let later: JSONValue = .object(["kind": .string("once"), "run_at": .string(Timestamp.format(Date().addingTimeInterval(3600)))])

    /// The fields a start sets, with its times relative to the start (the deadline) and to the claim (the lease, from
    /// the write's `updated_at`): what both paths must agree on.
    static func shape(_ job: Job, dueAt: Date?) -> [String] {
        let started = job.startedAt ?? .distantPast
        return [job.status.rawValue, "\(job.runCount)", "\(job.attempt)", "\(job.currentSlot == dueAt)", "\(job.nextRunAt == nil)",
                "\(job.deadlineAt.map { Int($0.timeIntervalSince(started).rounded()) } ?? -1)",
                "\(job.leaseExpiresAt.map { Int($0.timeIntervalSince(job.updatedAt).rounded()) } ?? -1)",
                job.claimedBy ?? "-", "\(job.version)", "\(job.finishedAt == nil)", "\(job.retryAt == nil)", "\(job.pauseRequested)"]
    }

    /// The run a start opened and the events after the job's creation, as text to compare.
    static func written(_ id: UUID, _ database: Database) async throws -> [String] {
        try await database.read { connection in
            var lines = try await connection.query("""
                SELECT r.run_number, r.attempt, r.scheduled_for = j.current_slot, r.started_at = j.started_at, r.status,
                       coalesce(r.instance_id, '-'), coalesce(r.claimed_by, '-')
                FROM docket.job_runs r JOIN docket.jobs j ON j.id = r.job_id WHERE r.job_id = \(id)
                """, logger: database.logger).collect().map { row in
                "\(try row.decode((Int, Int, Bool, Bool, String, String, String).self))"
            }
            lines += try await connection.query("""
                SELECT topic, coalesce(actor_id, '-'), data::text FROM docket.events
                WHERE entity_id = \(id.uuidString.lowercased()) AND topic IN ('job.status_changed', 'job.started') ORDER BY seq
                """, logger: database.logger).collect().map { row in "\(try row.decode((String, String, String).self))" }
            return lines
        }
    }

    /// Gives `job` (tenant a) a prerequisite task that is not done.
    static func waitOnAnOpenTask(_ job: Job, _ jobs: JobService, _ database: Database) async throws {
        let task = UUID()
        try await database.transaction { connection in
            try await connection.query("INSERT INTO docket.tasks (id, tenant_id, title, owner_id) VALUES (\(task), 'a', 't', 'u1')",
                                       logger: database.logger)
        }
        _ = try await jobs.linkTask(job.id, task: task, relationship: .prerequisite, by: Actors.writer)
    }

    @Test func theOneStatementStartsAJobAsTheTransactionDoes() async throws {
        try await withJobService(configure: { $0.instanceId = "instance-1" }) { jobs, database in
            let fields: [String: JSONValue] = ["schedule": dueNow, "timeout_seconds": .number(30), "priority": .number(60)]
            let plainJob = try await jobs.make("plain", fields, by: Actors.admin)
            let gatedJob = try await jobs.make("gated", fields, by: Actors.otherTenant)
            // Tenant b has work in a second queue: its claim shares slots between queues, in a transaction.
            _ = try await jobs.make("elsewhere", ["schedule": Self.later, "queue": .string("other")], by: Actors.otherTenant)

            let plainBefore = jobs.claimPaths.plain.load(ordering: .relaxed)
            let transactionalBefore = jobs.claimPaths.transactional.load(ordering: .relaxed)
            let plain = try await jobs.claim(agent: "w", limit: 5, leaseSeconds: 45, by: Actors.executor)
            #expect(jobs.claimPaths.plain.load(ordering: .relaxed) == plainBefore + 1)
            let gated = try await jobs.claim(agent: "w", limit: 5, leaseSeconds: 45, by: Self.workerB)
            #expect(jobs.claimPaths.transactional.load(ordering: .relaxed) == transactionalBefore + 1)
            #expect(plain.map(\.id) == [plainJob.id])
            #expect(gated.map(\.id) == [gatedJob.id])
            guard let p = plain.first, let g = gated.first else { return }

            #expect(Self.shape(p, dueAt: plainJob.nextRunAt) == Self.shape(g, dueAt: gatedJob.nextRunAt))
            #expect(Self.shape(p, dueAt: plainJob.nextRunAt)[0...2] == ["running", "1", "1"])
            #expect(try await jobs.get(p.id, by: Actors.reader) == p, "the answer is the stored row")
            let plainWrites = try await Self.written(p.id, database), gatedWrites = try await Self.written(g.id, database)
            #expect(plainWrites.count == 3, "\(plainWrites)")
            #expect(plainWrites == gatedWrites)
            // And the job goes on as any claimed job: its completion closes the run the statement opened.
            #expect(try await jobs.complete(p.id, JobOutcome(), by: Actors.executor).status == .succeeded)
            let closed = try await database.read { connection in
                try await connection.query("SELECT status FROM docket.job_runs WHERE job_id = \(p.id)", logger: database.logger)
                    .collect().first?.decode(String.self)
            }
            #expect(closed == "succeeded")
        }
    }

    @Test func aJobStartedWithoutAWorkerIsTakenAsTheTransactionTakesIt() async throws {
        try await withJobService(configure: { $0.instanceId = "instance-1" }) { jobs, database in
            let plainJob = try await jobs.make("plain", ["schedule": dueNow, "timeout_seconds": .number(30)], by: Actors.admin)
            let gatedJob = try await jobs.make("gated", ["schedule": dueNow, "timeout_seconds": .number(30)], by: Actors.otherTenant)
            _ = try await jobs.make("elsewhere", ["schedule": Self.later, "queue": .string("other")], by: Actors.otherTenant)
            // Started as the scheduler starts a due job: running, held by no worker, its run open.
            _ = try await jobs.start(plainJob.id, by: Actors.executor)
            _ = try await jobs.start(gatedJob.id, by: Self.workerB)
            let waiting = try await jobs.make("waiting", ["schedule": dueNow, "priority": .number(90)], by: Actors.admin)

            let plainBefore = jobs.claimPaths.plain.load(ordering: .relaxed)
            let plain = try await jobs.claim(agent: "w", limit: 1, leaseSeconds: 45, by: Actors.executor)
            #expect(jobs.claimPaths.plain.load(ordering: .relaxed) == plainBefore + 1)
            let gated = try await jobs.claim(agent: "w", limit: 1, leaseSeconds: 45, by: Self.workerB)
            #expect(plain.map(\.id) == [plainJob.id], "a started job comes before a scheduled one, whatever its priority")
            #expect(gated.map(\.id) == [gatedJob.id])
            guard let p = plain.first, let g = gated.first else { return }
            #expect(p.claimedBy == "w")
            #expect(Self.shape(p, dueAt: plainJob.nextRunAt) == Self.shape(g, dueAt: gatedJob.nextRunAt))
            #expect(try await jobs.get(p.id, by: Actors.reader) == p, "the answer is the stored row")
            let plainWrites = try await Self.written(p.id, database)
            #expect(plainWrites == (try await Self.written(g.id, database)))
            #expect(plainWrites.first?.contains("\"w\"") == true, "the run records its claimer: \(plainWrites)")
            #expect(plainWrites.count == 3, "the claim of a started job adds no events")
            #expect(try await jobs.claim(agent: "w", limit: 1, by: Actors.executor).map(\.id) == [waiting.id])
        }
    }

    @Test func theSweepStartsPlainDueJobsInOneStatementAsOneByOne() async throws {
        try await withJobService(configure: { $0.instanceId = "leader-1" }) { jobs, database in
            let sweep = jobs.during(LeaderTerm(epoch: 7, fence: { _ in }))
            let plain = try await jobs.make("plain", ["schedule": dueNow, "timeout_seconds": .number(30)])
            let alone = try await jobs.make("alone", ["schedule": dueNow, "timeout_seconds": .number(30)])
            let recurring = try await jobs.make("recurring", ["schedule": .object([
                "kind": .string("interval"), "every_seconds": .number(60), "start_at": .string(Timestamp.format(Date().addingTimeInterval(-30)))])])
            let linked = try await jobs.make("linked", ["schedule": dueNow])
            try await Self.waitOnAnOpenTask(linked, jobs, database)
            let later = try await jobs.make("later", ["schedule": Self.later])

            // One by one first, for the comparison: the transaction's start of `alone`.
            #expect(try await sweep.fireDue(alone.id, by: Actors.system).status == .running)
            #expect(try await sweep.startDuePlain(limit: 10, by: Actors.system) == 1, "only the plain one-time job")
            #expect(try await jobs.get(plain.id, by: Actors.reader).status == .running)
            for untouched in [recurring, linked, later] {
                #expect(try await jobs.get(untouched.id, by: Actors.reader).status == .scheduled, "\(untouched.name)")
            }
            let started = try await jobs.get(plain.id, by: Actors.reader), single = try await jobs.get(alone.id, by: Actors.reader)
            #expect(Self.shape(started, dueAt: plain.nextRunAt) == Self.shape(single, dueAt: alone.nextRunAt))
            #expect(started.claimedBy == nil && started.leaseExpiresAt == nil)
            let batchWrites = try await Self.written(plain.id, database)
            #expect(batchWrites.count == 3, "\(batchWrites)")
            #expect(batchWrites == (try await Self.written(alone.id, database)))
            let epochs = try await database.read { connection in
                try await connection.query("""
                    SELECT (SELECT array_agg(DISTINCT leader_epoch) FROM docket.job_runs WHERE job_id = \(plain.id)),
                           (SELECT array_agg(DISTINCT leader_epoch) FROM docket.events WHERE entity_id = \(plain.id.uuidString.lowercased())
                              AND topic IN ('job.status_changed', 'job.started'))
                    """, logger: database.logger).collect().first!.decode(([Int64], [Int64]).self)
            }
            #expect(epochs.0 == [7] && epochs.1 == [7], "the leader's epoch on the run and the events")
        }
    }

    @Test func anyGateSendsTheClaimToTheTransactionAndItsRulesHold() async throws {
        try await withJobService { jobs, database in
            func paths() -> (Int, Int) {
                (jobs.claimPaths.plain.load(ordering: .relaxed), jobs.claimPaths.transactional.load(ordering: .relaxed))
            }
            // A due job with a prerequisite that is not done: not started, and not hidden behind a plain "nothing due".
            let linked = try await jobs.make("linked", ["schedule": dueNow])
            try await Self.waitOnAnOpenTask(linked, jobs, database)
            var before = paths()
            #expect(try await jobs.claim(limit: 1, by: Actors.executor).isEmpty)
            #expect(paths().1 == before.1 + 1, "a linked due job is the transaction's to refuse")
            #expect(try await jobs.get(linked.id, by: Actors.reader).status == .scheduled)

            // A plain one beside it is claimed in one statement when the limit is filled by it.
            let free = try await jobs.make("free", ["schedule": dueNow])
            before = paths()
            #expect(try await jobs.claim(limit: 1, by: Actors.executor).map(\.id) == [free.id])
            #expect(paths().0 == before.0 + 1)

            // A budget: the transaction checks it, and refuses what it does not admit.
            _ = try await jobs.setBudget(limit: try Money("1.00", field: "limit"), period: .day, by: Actors.budgetAdmin)
            let costly = try await jobs.make("costly", ["schedule": dueNow, "estimated_cost": .string("5.00")])
            before = paths()
            #expect(await errorCode { _ = try await jobs.claim(limit: 5, by: Actors.executor) } == .budgetExceeded)
            #expect(paths().1 == before.1 + 1)
            #expect(try await jobs.get(costly.id, by: Actors.reader).status == .scheduled)

            // A paused queue (a settings row): nothing from it starts.
            let paused = try await jobs.make("paused", ["schedule": dueNow, "queue": .string("slow")], by: Actors.otherTenant)
            _ = try await jobs.setQueuePaused(try QueueRef(Arguments(["tenant_id": .string("b"), "queue": .string("slow")])),
                                              paused: true, by: Actors.otherTenant)
            before = paths()
            #expect(try await jobs.claim(queues: ["slow"], by: Self.workerB).isEmpty)
            #expect(paths().1 == before.1 + 1)
            #expect(try await jobs.get(paused.id, by: Actors.otherTenant).status == .scheduled)
        }
    }
}
