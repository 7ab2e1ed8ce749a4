import DocketCore
import DocketPostgres
import DocketServices
import Foundation
import Testing

/// SPEC 2.6: the job and task services react to each other, durably and once.
struct ReactionTests {
    let w = TaskActors.writer

    @Test func jobCancellationCancelsItsOpenTasks() async throws {
        try await withTaskService { tasks, jobs, database in
            for mode in [StopMode.graceful, .hard] {
                let job = try await jobs.make()
                let pending = try await tasks.make("pending", ["job_id": .string(job.idText)])
                let working = try await tasks.make("working", ["job_id": .string(job.idText)])
                let linked = try await tasks.make("linked")
                let done = try await tasks.make("done", ["job_id": .string(job.idText)])
                _ = try await jobs.linkTask(job.id, task: linked.id, by: Actors.writer)
                _ = try await tasks.start(working.id, by: w)
                _ = try await tasks.start(done.id, by: w)
                _ = try await tasks.complete(done.id, by: w)
                _ = try await jobs.cancel(job.id, reason: "stop", mode: mode, by: Actors.executor)

                #expect(try await tasks.get(pending.id, by: w).status == .cancelled)
                #expect(try await tasks.get(linked.id, by: w).status == .cancelled)
                #expect(try await tasks.get(done.id, by: w).status == .completed)
                #expect(try await tasks.get(working.id, by: w).status == (mode == .graceful ? .inProgress : .cancelled),
                        "\(mode): graceful lets in-progress tasks finish")
                // Applied once, in the cancel's own commit: one task.cancelled per task, no more.
                let cancelledEvents = try await topics(of: pending.id, in: database).filter { $0 == "task.cancelled" }
                #expect(cancelledEvents.count == 1)
                #expect(await errorCode { _ = try await jobs.cancel(job.id, reason: "again", mode: .hard, by: Actors.executor) } == .invalidTransition)
                #expect(try await topics(of: pending.id, in: database).filter { $0 == "task.cancelled" }.count == 1,
                        "a repeated cancel applies nothing twice")
            }
        }
    }

    @Test func aFailedCancelAppliesNoReaction() async throws {
        try await withTaskService { tasks, jobs, _ in
            // A cancel refused by the version check rolls back as a whole: its reaction never happened.
            let job = try await jobs.make()
            let task = try await tasks.make("t", ["job_id": .string(job.idText)])
            #expect(await errorCode { _ = try await jobs.cancel(job.id, reason: nil, mode: .hard, expectedVersion: 99, by: Actors.executor) } == .concurrencyError)
            #expect(try await tasks.get(task.id, by: w).status == .pending)
        }
    }

    @Test func deletingAJobClearsJobIdAndLinks() async throws {
        try await withTaskService { tasks, jobs, database in
            let job = try await jobs.make()
            let owned = try await tasks.make("owned", ["job_id": .string(job.idText)])
            let linked = try await tasks.make("linked")
            _ = try await jobs.linkTask(job.id, task: linked.id, by: Actors.writer)
            try await jobs.delete(job.id, by: Actors.admin)
            #expect(try await tasks.get(owned.id, by: w).jobId == nil)
            #expect(try await tasks.get(linked.id, by: w).status == .pending)
            #expect(await errorCode { _ = try await tasks.byJob(job.id, by: w) } == .jobNotFound)
            let links = try await database.read { connection in
                try await connection.query("SELECT count(*)::int FROM docket.job_tasks", logger: database.logger)
                    .collect().first?.decode(Int.self)
            }
            #expect(links == 0)
        }
    }

    @Test func primaryTasksGateJobSuccessAndTheLastOneAnnouncesIt() async throws {
        try await withTaskService { tasks, jobs, database in
            let job = try await jobs.make()
            let primary = try await tasks.make("primary"), step = try await tasks.make("step")
            _ = try await jobs.linkTask(job.id, task: primary.id, relationship: .primary, by: Actors.writer)
            _ = try await jobs.linkTask(job.id, task: step.id, relationship: .step, by: Actors.writer)
            _ = try await jobs.start(job.id, by: Actors.executor)
            #expect(await errorCode { _ = try await jobs.complete(job.id, JobOutcome(), by: Actors.executor) } == .dependencyError)

            _ = try await tasks.start(primary.id, by: w)
            _ = try await tasks.complete(primary.id, by: w)
            #expect(try await topics(of: job.id, in: database).filter { $0 == "job.tasks_completed" }.isEmpty, "the step task is still open")
            _ = try await tasks.start(step.id, by: w)
            _ = try await tasks.complete(step.id, by: w)
            #expect(try await topics(of: job.id, in: database).filter { $0 == "job.tasks_completed" }.count == 1)
            #expect(try await jobs.complete(job.id, JobOutcome(), by: Actors.executor).status == .succeeded)
        }
    }
}
