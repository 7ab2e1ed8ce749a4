import DocketCore
import DocketPostgres
import DocketServices
import DocketTestSupport
import Foundation
import Testing

/// The retry sweep's batch (`JobService.retryDue(_:by:)`): failed jobs past their backoff run their next attempt in
/// one write, each as `job.retry` would; what the batch cannot take is left for the one-at-a-time path.
struct RetryBatchTests {
    @Test func aDueBatchRetriesInOneWriteAndLeavesTheGatedTheTakenAndTheEarly() async throws {
        try await withTaskService { tasks, jobs, database in
            let policy: JSONValue = .object(["max_attempts": .number(3), "initial_backoff_seconds": .number(60),
                                             "max_backoff_seconds": .number(60), "jitter": .number(0)])
            var ids: [UUID] = []
            for index in 0..<120 {
                let job = try await jobs.make("flaky-\(index)", ["retry_policy": policy])
                _ = try await jobs.start(job.id, by: Actors.executor)
                _ = try await jobs.fail(job.id, errorCode: "BOOM", errorMessage: nil, by: Actors.executor)
                ids.append(job.id)
            }
            // A job with a link has a gate to check: the batch leaves it to job.retry's own path.
            let task = try await tasks.make("prerequisite")
            let gated = ids[0]
            _ = try await jobs.linkTask(gated, task: task.id, relationship: .step, by: Actors.admin)
            // A job whose next attempt already has a run (as if written by another path): left unwritten, no events.
            let taken = ids[1]
            let takenBefore = try await jobs.get(taken, by: Actors.admin)
            try await database.statement { connection in
                try await connection.query("""
                    INSERT INTO docket.job_runs (id, job_id, tenant_id, run_number, attempt, scheduled_for, started_at, finished_at, status)
                    SELECT gen_random_uuid(), id, tenant_id, run_count, attempt + 1, current_slot, now(), now(), 'failed'
                    FROM docket.jobs WHERE id = \(taken)
                    """, logger: database.logger)
            }
            // A job failed with a far longer backoff is not due yet.
            let early = try await jobs.make("patient", ["retry_policy": .object([
                "max_attempts": .number(3), "initial_backoff_seconds": .number(86_400 * 30),
                "max_backoff_seconds": .number(86_400 * 30), "jitter": .number(0)])])
            _ = try await jobs.start(early.id, by: Actors.executor)
            _ = try await jobs.fail(early.id, errorCode: "BOOM", errorMessage: nil, by: Actors.executor)
            let before = try await jobs.get(ids[5], by: Actors.admin)

            let later = JobService(database: database, clock: { Date().addingTimeInterval(3_600).storedPrecision })
            let retried = try await later.retryDue(ids + [early.id], by: Actors.system)
            #expect(retried == Set(ids.dropFirst(2)), "every plain due job, and none of the gated, taken or early ones")

            let (running, openRuns, retriedEvents) = try await database.read { connection in
                try await connection.query("""
                    SELECT (SELECT count(*)::int FROM docket.jobs WHERE status = 'running' AND attempt = 2 AND retry_at IS NULL),
                           (SELECT count(*)::int FROM docket.job_runs WHERE status = 'running' AND attempt = 2),
                           (SELECT count(*)::int FROM docket.events WHERE topic = 'job.retried')
                    """, logger: database.logger).collect()[0].decode((Int, Int, Int).self)
            }
            #expect(running == 118 && openRuns == 118, "each retried job runs its second attempt in an open run")
            #expect(retriedEvents == 118)
            let one = try await jobs.get(ids[5], by: Actors.admin)
            #expect(one.version == before.version + 1 && one.errorCode == nil && one.startedAt != nil)
            #expect(try await topics(of: ids[5], in: database).suffix(3) == ["job.status_changed", "job.started", "job.retried"])
            #expect(try await jobs.get(taken, by: Actors.admin) == takenBefore, "the job whose attempt has a run is untouched")
            #expect(try await topics(of: taken, in: database).last == "job.failed", "and has no events of a retry")
            #expect(try await jobs.get(gated, by: Actors.admin).status == .failed)
            #expect(try await jobs.get(early.id, by: Actors.admin).status == .failed)

            #expect(try await later.retryDue(ids, by: Actors.system).isEmpty, "a second batch finds nothing due")
            let single = try await later.retryDue(gated, by: Actors.system)
            #expect(single?.status == .running && single?.attempt == 2, "the gated job retries on its own path")
        }
    }
}
