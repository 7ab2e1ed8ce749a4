import DocketCore
import DocketProtocol

extension OperationTable {
    /// The job operations (SPEC 2.2, 3.3).
    static let jobs: [ProtocolOperation] = [
        ProtocolOperation(.jobCreate, JobCreate.self) { input, call in try await call.jobs.create(input, by: try call.actor) },
        ProtocolOperation(.jobCreateMany, JobCreateMany.self) { input, call in
            WireList("jobs", try await call.jobs.createMany(input, by: try call.actor))
        },
        ProtocolOperation(.jobGet, JobRef.self) { input, call in try await call.jobs.get(input.id, by: try call.actor) },
        ProtocolOperation(.jobUpdate, JobUpdate.self) { input, call in
            try await call.jobs.update(input.ref.id, input.fields, expectedVersion: input.ref.expectedVersion, by: try call.actor)
        },
        ProtocolOperation(.jobDelete, JobRef.self) { input, call in
            try await call.jobs.delete(input.id, by: try call.actor)
            return JSONValue.object(["deleted": .bool(true)])
        },
        ProtocolOperation(.jobList, JobListing.self) { input, call in
            try await call.jobs.list(input.filter, page: input.page, tenant: input.tenantId, by: try call.actor)
        },
        ProtocolOperation(.jobSchedule, JobScheduling.self) { input, call in
            try await call.jobs.schedule(input.job.id, schedule: input.schedule, expectedVersion: input.job.expectedVersion,
                                         by: try call.actor)
        },
        ProtocolOperation(.jobStart, JobVersioned.self) { input, call in
            try await call.jobs.start(input.id, expectedVersion: input.expectedVersion, by: try call.actor)
        },
        ProtocolOperation(.jobComplete, JobCompletion.self) { input, call in
            try await call.jobs.complete(input.job.id, input.outcome, expectedVersion: input.job.expectedVersion, by: try call.actor)
        },
        ProtocolOperation(.jobFail, JobFailure.self) { input, call in
            try await call.jobs.fail(input.job.id, errorCode: input.errorCode, errorMessage: input.errorMessage,
                                     actualCost: input.actualCost, output: input.output, expectedVersion: input.job.expectedVersion,
                                     by: try call.actor)
        },
        ProtocolOperation(.jobCancel, JobCancellation.self) { input, call in
            try await call.jobs.cancel(input.job.id, reason: input.reason, mode: input.mode,
                                       expectedVersion: input.job.expectedVersion, by: try call.actor)
        },
        ProtocolOperation(.jobRetry, JobVersioned.self) { input, call in
            try await call.jobs.retry(input.id, expectedVersion: input.expectedVersion, by: try call.actor)
        },
        ProtocolOperation(.jobPause, JobPausing.self) { input, call in
            try await call.jobs.pause(input.job.id, mode: input.mode, expectedVersion: input.job.expectedVersion, by: try call.actor)
        },
        ProtocolOperation(.jobResume, JobVersioned.self) { input, call in
            try await call.jobs.resume(input.id, expectedVersion: input.expectedVersion, by: try call.actor)
        },
        ProtocolOperation(.jobCheckpoint, JobCheckpointing.self) { input, call in
            try await call.jobs.checkpoint(input.job.id, input.checkpoint, by: try call.actor)
        },
        ProtocolOperation(.jobAssignAgent, JobAssignment.self) { input, call in
            try await call.jobs.assignAgent(input.job.id, agent: input.agent, reason: input.reason,
                                            expectedVersion: input.job.expectedVersion, by: try call.actor)
        },
        ProtocolOperation(.jobLinkTask, JobLinking.self) { input, call in
            try await call.jobs.linkTask(input.job.id, task: input.taskId, relationship: input.relationship,
                                         metadata: input.metadata, by: try call.actor)
        },
        ProtocolOperation(.jobUnlinkTask, JobUnlinking.self) { input, call in
            try await call.jobs.unlinkTask(input.job.id, task: input.taskId, by: try call.actor)
        },
        ProtocolOperation(.jobLinkedTasks, JobRef.self) { input, call in try await call.jobs.linkedTasks(input.id, by: try call.actor) },
        ProtocolOperation(.jobPending, JobPaging.self) { input, call in
            try await call.jobs.pending(page: input.page, tenant: input.tenantId, by: try call.actor)
        },
        ProtocolOperation(.jobRunning, JobPaging.self) { input, call in
            try await call.jobs.running(page: input.page, tenant: input.tenantId, by: try call.actor)
        },
        ProtocolOperation(.jobHistory, JobRef.self) { input, call in try await call.jobs.history(input.id, by: try call.actor) },
        ProtocolOperation(.jobClaim, JobClaiming.self) { input, call in
            try await call.jobs.claim(agent: input.agent, limit: input.limit, leaseSeconds: input.leaseSeconds,
                                      queues: input.queues, kinds: input.kinds, tenant: input.tenantId, by: try call.actor)
        },
        ProtocolOperation(.jobHeartbeat, JobHeartbeat.self) { input, call in
            try await call.jobs.heartbeat(input.job.id, executionContext: input.executionContext, leaseSeconds: input.leaseSeconds,
                                          by: try call.actor)
        },
        ProtocolOperation(.jobRecordMetrics, JobMetrics.self) { input, call in
            try await call.jobs.recordMetrics(input.job.id, ttftNs: input.ttftNs, totalDurationNs: input.totalDurationNs,
                                              by: try call.actor)
        },
    ]
}
