import DocketCore
import DocketPostgres
import DocketServices
import Foundation
import Testing

struct JobLifecycleTests {
    @Test func createGetUpdateDelete() async throws {
        try await withJobService { jobs, database in
            let job = try await jobs.make("nightly", ["priority": .string("HIGH"), "estimated_cost": .string("1.50"),
                                                       "metadata": .object(["team": .string("data")])])
            #expect(job.status == .draft)
            #expect(job.priority == 75)
            #expect(job.version == 1)
            #expect(try await jobs.get(job.id, by: Actors.reader) == job)

            let updated = try await jobs.update(job.id, Arguments(["description": .string("d"), "expected_version": .number(1)]), by: Actors.writer)
            #expect(updated.description == "d")
            #expect(updated.version == 2)

            #expect(await errorCode { _ = try await jobs.make("", by: Actors.admin) } == .validationError)
            #expect(await errorCode { _ = try await jobs.create(Arguments(["name": .string("x"), "bogus": .bool(true)]), by: Actors.admin) } == .validationError)
            #expect(await errorCode { _ = try await jobs.make("x", ["priority": .number(101)]) } == .validationError)
            #expect(await errorCode { _ = try await jobs.make("x", ["estimated_cost": .string("-1")]) } == .validationError)
            #expect(await errorCode { _ = try await jobs.make("x", ["callback_url": .string("ftp://x")]) } == .validationError)
            #expect(await errorCode { _ = try await jobs.make("x", ["schedule": .object(["kind": .string("weekly")])]) } == .scheduleError)
            #expect(await errorCode { _ = try await jobs.get(UUID(), by: Actors.admin) } == .jobNotFound)

            try await jobs.delete(job.id, by: Actors.writer)
            #expect(await errorCode { _ = try await jobs.get(job.id, by: Actors.admin) } == .jobNotFound)
            #expect(await errorCode { try await jobs.delete(job.id, by: Actors.writer) } == .jobNotFound)
            #expect(try await topics(of: job.id, in: database) == ["job.created", "job.updated", "job.deleted"])
        }
    }

    /// A start whose slot already has its run (the slot fired before) is refused with both the job and the run left
    /// as they were: the run's insert rides in the job's statement, so its conflict fails the whole change.
    @Test func aStartWhoseSlotHasRunIsRefusedAndChangesNothing() async throws {
        try await withJobService { jobs, database in
            let slot = "2031-01-01T00:00:00Z"
            let job = try await jobs.make("once", ["schedule": .object(["kind": .string("once"), "run_at": .string(slot)])])
            #expect(job.status == .scheduled)
            let at = try #require(Timestamp.parse(slot))
            let told = try await topics(of: job.id, in: database)
            try await database.transaction { connection in
                try await connection.query("""
                    INSERT INTO docket.job_runs (id, job_id, tenant_id, run_number, attempt, scheduled_for, started_at, finished_at, status)
                    VALUES (\(UUID()), \(job.id), \(job.tenantId), 1, 1, \(at), \(at), \(at), 'succeeded')
                    """, logger: database.logger)
            }
            let refusal = await errorCode { _ = try await jobs.start(job.id, by: Actors.executor) }
            #expect(refusal == .invalidTransition)
            let after = try await jobs.get(job.id, by: Actors.admin)
            #expect(after == job, "the job is as it was")
            #expect(try await topics(of: job.id, in: database) == told, "no event of the refused start")
        }
    }

    @Test func idempotentCreateReturnsTheFirstJob() async throws {
        try await withJobService { jobs, _ in
            let first = try await jobs.make("once", ["idempotency_key": .string("k-1")])
            let again = try await jobs.make("twice", ["idempotency_key": .string("k-1")])
            #expect(again.id == first.id)
            #expect(again.name == "once")
            let concurrent = try await withThrowingTaskGroup(of: UUID.self) { group in
                for _ in 0..<8 { group.addTask { try await jobs.make("race", ["idempotency_key": .string("k-2")]).id } }
                return try await group.reduce(into: Set<UUID>()) { $0.insert($1) }
            }
            #expect(concurrent.count == 1)
            let other = try await jobs.make("b", ["idempotency_key": .string("k-1")], by: Actors.otherTenant)
            #expect(other.id != first.id, "keys are unique per tenant")
        }
    }

    @Test func startCompleteRecordsRunsAndEvents() async throws {
        try await withJobService { jobs, database in
            let job = try await jobs.make()
            let running = try await jobs.start(job.id, by: Actors.executor)
            #expect(running.status == .running)
            #expect(running.startedAt != nil)
            let done = try await jobs.complete(job.id, JobOutcome(resultSummary: "ok", actualCost: try Money("0.10", field: "c")), by: Actors.executor)
            #expect(done.status == .succeeded)
            #expect(done.finishedAt != nil)
            let runs = try await jobs.history(job.id, by: Actors.reader)
            #expect(runs.count == 1)
            #expect(runs.first?.status == .succeeded)
            #expect(runs.first?.actualCost?.description == "0.10")
            #expect(try await topics(of: job.id, in: database) == [
                "job.created", "job.status_changed", "job.started", "job.status_changed", "job.succeeded"])
            let events = try await database.read { c in try await EventQueries(c, logger: database.logger).list(afterSeq: 0) }
            #expect(events[1].data == .object(["from": .string("draft"), "to": .string("running")]))
        }
    }

    @Test func failRetryCompleteKeepsExactCostsAndHistory() async throws {
        try await withJobService { jobs, _ in
            let job = try await jobs.make("flaky", ["retry_policy": .object(["max_attempts": .number(3)])])
            _ = try await jobs.start(job.id, by: Actors.executor)
            let failed = try await jobs.fail(job.id, errorCode: "BOOM", errorMessage: "it broke",
                                             actualCost: try Money("0.10", field: "c"), by: Actors.executor)
            #expect(failed.status == .failed)
            #expect(failed.retryAt != nil, "the policy allows another attempt")
            let retried = try await jobs.retry(job.id, by: Actors.executor)
            #expect(retried.status == .running)
            #expect(retried.attempt == 2)
            let done = try await jobs.complete(job.id, JobOutcome(actualCost: try Money("0.20", field: "c")), by: Actors.executor)
            #expect(done.actualCost?.description == "0.30")
            let runs = try await jobs.history(job.id, by: Actors.reader)
            #expect(runs.map(\.attempt) == [1, 2])
            #expect(runs.map(\.status) == [.failed, .succeeded])
            #expect(runs[0].scheduledFor == runs[1].scheduledFor, "a retry is another attempt of the same occurrence")
            // complete with success: false acts as fail.
            let again = try await jobs.retry(job.id, by: Actors.executor)
            #expect(again.attempt == 3)
            let failedAgain = try await jobs.complete(job.id, JobOutcome(success: false, errorMessage: "nope"), by: Actors.executor)
            #expect(failedAgain.status == .failed)
            #expect(failedAgain.retryAt == nil, "three attempts used")
        }
    }

    @Test func gracefulAndHardCancel() async throws {
        try await withJobService { jobs, _ in
            let job = try await jobs.make()
            _ = try await jobs.start(job.id, by: Actors.executor)
            let requested = try await jobs.cancel(job.id, reason: "user asked", mode: .graceful, by: Actors.executor)
            #expect(requested.status == .running)
            #expect(requested.isCancelRequested)
            let beat = try await jobs.heartbeat(job.id, by: Actors.executor)
            #expect(beat.status == .running)
            #expect(beat.cancelRequested?.objectValue?["reason"] == .string("user asked"))
            let cancelled = try await jobs.cancel(job.id, reason: "done", mode: .hard, by: Actors.executor)
            #expect(cancelled.status == .cancelled)
            #expect(try await jobs.history(job.id, by: Actors.reader).first?.status == .cancelled)
            // A draft is cancelled at once even gracefully.
            let draft = try await jobs.make()
            #expect(try await jobs.cancel(draft.id, reason: nil, by: Actors.executor).status == .cancelled)
        }
    }

    @Test func checkpointPauseResumeKeepsCheckpoint() async throws {
        try await withJobService { jobs, _ in
            let job = try await jobs.make()
            _ = try await jobs.start(job.id, by: Actors.executor)
            _ = try await jobs.checkpoint(job.id, Checkpoint(stepIndex: 3, stepName: "fetch", state: .object(["page": .number(7)])), by: Actors.executor)
            let asked = try await jobs.pause(job.id, mode: .graceful, by: Actors.executor)
            #expect(asked.status == .running)
            #expect(try await jobs.heartbeat(job.id, by: Actors.executor).pauseRequested)
            let paused = try await jobs.pause(job.id, mode: .hard, by: Actors.executor)
            #expect(paused.status == .paused)
            #expect(try await jobs.heartbeat(job.id, by: Actors.executor).status == .paused)
            #expect(await errorCode { _ = try await jobs.complete(job.id, JobOutcome(), by: Actors.executor) } == .invalidTransition)
            let resumed = try await jobs.resume(job.id, by: Actors.executor)
            #expect(resumed.status == .running)
            #expect(resumed.lastCompletedStep == 3)
            #expect(resumed.checkpointData?.objectValue?["state"] == .object(["page": .number(7)]))
            #expect(resumed.checkpointData?.objectValue?["step_name"] == .string("fetch"))
        }
    }

    @Test func assignAgentTwiceLeavesTwoEntries() async throws {
        try await withJobService { jobs, _ in
            let job = try await jobs.make()
            _ = try await jobs.assignAgent(job.id, agent: "planner", reason: "first", by: Actors.writer)
            let second = try await jobs.assignAgent(job.id, agent: "analyst", reason: "handover", by: Actors.writer)
            #expect(second.assignedAgent == "analyst")
            #expect(second.delegationChain.count == 2)
            #expect(second.delegationChain[1].objectValue?["from"] == .string("planner"))
            #expect(second.delegationChain[1].objectValue?["to"] == .string("analyst"))
            #expect(await errorCode { _ = try await jobs.assignAgent(job.id, agent: "", by: Actors.writer) } == .validationError)
        }
    }

    @Test func recordMetricsAndScheduledJobs() async throws {
        try await withJobService { jobs, _ in
            let job = try await jobs.make()
            _ = try await jobs.start(job.id, by: Actors.executor)
            let measured = try await jobs.recordMetrics(job.id, ttftNs: 1_500, totalDurationNs: 90_000, by: Actors.executor)
            #expect(measured.ttftNs == 1_500)
            #expect(measured.totalDurationNs == 90_000)
            #expect(await errorCode { _ = try await jobs.recordMetrics(job.id, ttftNs: -1, totalDurationNs: nil, by: Actors.executor) } == .validationError)

            let scheduled = try await jobs.make("later", ["schedule": dueNow])
            #expect(scheduled.status == .scheduled)
            #expect(scheduled.nextRunAt != nil)
            let draft = try await jobs.make("draft")
            let planned = try await jobs.schedule(draft.id, schedule: dueNow, by: Actors.writer)
            #expect(planned.status == .scheduled)
            let pending = try await jobs.pending(page: PageRequest(), by: Actors.reader)
            #expect(Set(pending.items.map(\.id)) == [scheduled.id, draft.id])
            let running = try await jobs.running(page: PageRequest(), by: Actors.reader)
            #expect(running.items.map(\.id) == [job.id])
        }
    }

    @Test func deleteRefusedWhileRunning() async throws {
        try await withJobService { jobs, _ in
            let job = try await jobs.make()
            _ = try await jobs.start(job.id, by: Actors.executor)
            #expect(await errorCode { try await jobs.delete(job.id, by: Actors.admin) } == .invalidTransition)
            _ = try await jobs.pause(job.id, mode: .hard, by: Actors.executor)
            #expect(await errorCode { try await jobs.delete(job.id, by: Actors.admin) } == .invalidTransition)
            #expect(try await jobs.get(job.id, by: Actors.admin).status == .paused)
        }
    }
}
