import DocketCore
import DocketProtocol

extension OperationTable {
    /// The job operations (SPEC 2.2, 3.3).
    static let jobs: [ProtocolOperation] = [
        ProtocolOperation(.jobCreate, JobCreate.self) { input, call in try await call.jobs.create(input, by: try call.actor) },
        ProtocolOperation(.jobGet, JobRef.self) { input, call in try await call.jobs.get(input.jobId, by: try call.actor) },
        ProtocolOperation(.jobUpdate, JobUpdate.self) { input, call in
            try await call.jobs.update(input.job.job.jobId, input.fields, expectedVersion: input.job.expectedVersion, by: try call.actor)
        },
        ProtocolOperation(.jobDelete, JobRef.self) { input, call in
            try await call.jobs.delete(input.jobId, by: try call.actor)
            return JSONValue.object(["deleted": .bool(true)])
        },
        ProtocolOperation(.jobList, JobListing.self) { input, call in
            try await call.jobs.list(input.filter, page: input.page, tenant: input.tenantId, by: try call.actor)
        },
        ProtocolOperation(.jobSchedule, JobScheduling.self) { input, call in
            try await call.jobs.schedule(input.job.job.jobId, schedule: input.schedule, expectedVersion: input.job.expectedVersion,
                                         by: try call.actor)
        },
        ProtocolOperation(.jobStart, JobVersioned.self) { input, call in
            try await call.jobs.start(input.job.jobId, expectedVersion: input.expectedVersion, by: try call.actor)
        },
        ProtocolOperation(.jobComplete, JobCompletion.self) { input, call in
            try await call.jobs.complete(input.job.job.jobId, input.outcome, expectedVersion: input.job.expectedVersion, by: try call.actor)
        },
        ProtocolOperation(.jobFail, JobFailure.self) { input, call in
            try await call.jobs.fail(input.job.job.jobId, errorCode: input.errorCode, errorMessage: input.errorMessage,
                                     actualCost: input.actualCost, output: input.output, expectedVersion: input.job.expectedVersion,
                                     by: try call.actor)
        },
        ProtocolOperation(.jobCancel, JobCancellation.self) { input, call in
            try await call.jobs.cancel(input.job.job.jobId, reason: input.reason, mode: input.mode,
                                       expectedVersion: input.job.expectedVersion, by: try call.actor)
        },
        ProtocolOperation(.jobRetry, JobVersioned.self) { input, call in
            try await call.jobs.retry(input.job.jobId, expectedVersion: input.expectedVersion, by: try call.actor)
        },
        ProtocolOperation(.jobPause, JobPausing.self) { input, call in
            try await call.jobs.pause(input.job.job.jobId, mode: input.mode, expectedVersion: input.job.expectedVersion, by: try call.actor)
        },
        ProtocolOperation(.jobResume, JobVersioned.self) { input, call in
            try await call.jobs.resume(input.job.jobId, expectedVersion: input.expectedVersion, by: try call.actor)
        },
        ProtocolOperation(.jobCheckpoint, JobCheckpointing.self) { input, call in
            try await call.jobs.checkpoint(input.job.jobId, input.checkpoint, by: try call.actor)
        },
        ProtocolOperation(.jobAssignAgent, JobAssignment.self) { input, call in
            try await call.jobs.assignAgent(input.job.job.jobId, agent: input.agent, reason: input.reason,
                                            expectedVersion: input.job.expectedVersion, by: try call.actor)
        },
        ProtocolOperation(.jobLinkTask, JobLinking.self) { input, call in
            try await call.jobs.linkTask(input.job.jobId, task: input.taskId, relationship: input.relationship,
                                         metadata: input.metadata, by: try call.actor)
        },
        ProtocolOperation(.jobUnlinkTask, JobUnlinking.self) { input, call in
            try await call.jobs.unlinkTask(input.job.jobId, task: input.taskId, by: try call.actor)
        },
        ProtocolOperation(.jobLinkedTasks, JobRef.self) { input, call in try await call.jobs.linkedTasks(input.jobId, by: try call.actor) },
        ProtocolOperation(.jobPending, JobPaging.self) { input, call in
            try await call.jobs.pending(page: input.page, tenant: input.tenantId, by: try call.actor)
        },
        ProtocolOperation(.jobRunning, JobPaging.self) { input, call in
            try await call.jobs.running(page: input.page, tenant: input.tenantId, by: try call.actor)
        },
        ProtocolOperation(.jobHistory, JobRef.self) { input, call in try await call.jobs.history(input.jobId, by: try call.actor) },
        ProtocolOperation(.jobClaim, JobClaiming.self) { input, call in
            try await call.jobs.claim(agent: input.agent, limit: input.limit, leaseSeconds: input.leaseSeconds,
                                      tenant: input.tenantId, by: try call.actor)
        },
        ProtocolOperation(.jobHeartbeat, JobHeartbeat.self) { input, call in
            try await call.jobs.heartbeat(input.job.jobId, executionContext: input.executionContext, leaseSeconds: input.leaseSeconds,
                                          by: try call.actor)
        },
        ProtocolOperation(.jobRecordMetrics, JobMetrics.self) { input, call in
            try await call.jobs.recordMetrics(input.job.jobId, ttftNs: input.ttftNs, totalDurationNs: input.totalDurationNs,
                                              by: try call.actor)
        },
    ]
}
