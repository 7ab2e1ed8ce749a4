import DocketCore
import DocketPostgres
import DocketServices
import Foundation
import Testing

/// Every status of the job table reached through the service, and every lifecycle operation tried from it.
struct JobTransitionTests {
    enum Attempt: String, CaseIterable, Sendable {
        case start, complete, fail, cancelHard, retry, pauseHard, resume, schedule

        /// The target status and the operation name the machine checks.
        var target: (JobStatus, String) {
            switch self {
            case .start: (.running, "job.start")
            case .complete: (.succeeded, "job.complete")
            case .fail: (.failed, "job.fail")
            case .cancelHard: (.cancelled, "job.cancel")
            case .retry: (.running, "job.retry")
            case .pauseHard: (.paused, "job.pause")
            case .resume: (.running, "job.resume")
            case .schedule: (.scheduled, "job.schedule")
            }
        }

        func run(_ jobs: JobService, _ id: UUID) async throws {
            let actor = Actors.admin
            switch self {
            case .start: _ = try await jobs.start(id, by: actor)
            case .complete: _ = try await jobs.complete(id, JobOutcome(), by: actor)
            case .fail: _ = try await jobs.fail(id, errorCode: "X", errorMessage: nil, by: actor)
            case .cancelHard: _ = try await jobs.cancel(id, reason: nil, mode: .hard, by: actor)
            case .retry: _ = try await jobs.retry(id, by: actor)
            case .pauseHard: _ = try await jobs.pause(id, mode: .hard, by: actor)
            case .resume: _ = try await jobs.resume(id, by: actor)
            case .schedule: _ = try await jobs.schedule(id, schedule: dueNow, by: actor)
            }
        }
    }

    /// Drives a new job into `status` through the service.
    func job(in status: JobStatus, _ jobs: JobService) async throws -> UUID {
        let id = try await jobs.make().id
        let actor = Actors.admin
        switch status {
        case .draft: break
        case .scheduled: _ = try await jobs.schedule(id, schedule: dueNow, by: actor)
        case .running: _ = try await jobs.start(id, by: actor)
        case .paused:
            _ = try await jobs.start(id, by: actor)
            _ = try await jobs.pause(id, mode: .hard, by: actor)
        case .succeeded:
            _ = try await jobs.start(id, by: actor)
            _ = try await jobs.complete(id, JobOutcome(), by: actor)
        case .failed:
            _ = try await jobs.start(id, by: actor)
            _ = try await jobs.fail(id, errorCode: "X", errorMessage: nil, by: actor)
        case .cancelled: _ = try await jobs.cancel(id, reason: nil, mode: .hard, by: actor)
        }
        #expect(try await jobs.get(id, by: actor).status == status)
        return id
    }

    @Test(arguments: JobStatus.allCases)
    func everyOperationFrom(_ status: JobStatus) async throws {
        try await withJobService { jobs, _ in
            for attempt in Attempt.allCases {
                let id = try await job(in: status, jobs)
                let before = try await jobs.get(id, by: Actors.admin)
                let (target, operation) = attempt.target
                // Re-planning a scheduled job is allowed without a transition.
                let expected = JobStatus.machine.allows(from: status, to: target, via: operation)
                    || (attempt == .schedule && status == .scheduled)
                let code = await errorCode { try await attempt.run(jobs, id) }
                if expected {
                    #expect(code == nil, "\(status) → \(attempt) should be allowed")
                    #expect(try await jobs.get(id, by: Actors.admin).status == target)
                } else {
                    #expect(code == .invalidTransition, "\(status) → \(attempt) should be refused")
                    #expect(try await jobs.get(id, by: Actors.admin) == before, "a refused \(attempt) changes nothing")
                }
            }
        }
    }
}
