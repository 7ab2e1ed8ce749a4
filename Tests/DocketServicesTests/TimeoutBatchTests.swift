import DocketCore
import DocketPostgres
import DocketServices
import DocketTestSupport
import Foundation
import Testing

/// The timeout sweep's batch (`JobService.expire(_:lease:by:)`): many jobs past their deadline end in one statement,
/// each as the status table, its retry policy and its run say.
struct TimeoutBatchTests {
    @Test func aBatchPastItsDeadlineEndsInOneWriteEachWithItsRunRetryAndEvents() async throws {
        try await withJobService { jobs, database in
            var ids: [UUID] = []
            for index in 0..<250 {
                var extra: [String: JSONValue] = ["timeout_seconds": .number(1)]
                if index % 5 == 0 {
                    extra["retry_policy"] = .object(["max_attempts": .number(2), "initial_backoff_seconds": .number(30),
                                                     "max_backoff_seconds": .number(30), "jitter": .number(0)])
                }
                let job = try await jobs.make("timing-out-\(index)", extra)
                _ = try await jobs.start(job.id, by: Actors.executor)
                ids.append(job.id)
            }
            // One finishes first: the batch must leave it as it is.
            let finished = try await jobs.complete(ids[1], JobOutcome(resultSummary: "in time"), by: Actors.executor)
            let later = JobService(database: database, clock: { Date().addingTimeInterval(3_600).storedPrecision })
            let ended = try await later.expire(ids, lease: false, by: Actors.system)
            #expect(ended == 249)

            let (failed, retrying, timedOutRuns, openRuns, events) = try await database.read { connection in
                try await connection.query("""
                    SELECT (SELECT count(*)::int FROM docket.jobs WHERE status = 'failed' AND error_code = 'TIMEOUT' AND version = 3),
                           (SELECT count(*)::int FROM docket.jobs WHERE status = 'failed' AND retry_at IS NOT NULL),
                           (SELECT count(*)::int FROM docket.job_runs WHERE status = 'timed_out' AND error_code = 'TIMEOUT'),
                           (SELECT count(*)::int FROM docket.job_runs WHERE status = 'running'),
                           (SELECT count(*)::int FROM docket.events WHERE topic = 'job.timed_out')
                    """, logger: database.logger).collect()[0].decode((Int, Int, Int, Int, Int).self)
            }
            #expect(failed == 249, "every job past its deadline failed TIMEOUT, its version bumped once")
            #expect(retrying == 50, "those with a retry left have their retry time")
            #expect(timedOutRuns == 249 && openRuns == 0, "each run closed as timed_out")
            #expect(events == 249)
            #expect(try await jobs.get(ids[1], by: Actors.admin) == finished, "the job that finished first is untouched")
            let one = try await jobs.get(ids[2], by: Actors.admin)
            #expect(one.finishedAt != nil && one.deadlineAt == nil && one.claimedBy == nil)
            #expect(try await topics(of: ids[2], in: database).suffix(3) == ["job.timed_out", "job.status_changed", "job.failed"])
            #expect(try await later.expire(ids, lease: false, by: Actors.system) == 0, "a second pass finds nothing")
        }
    }
}
