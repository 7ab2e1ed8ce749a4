import DocketCore
import DocketPostgres
import Foundation

extension JobService {
    /// `job.start`: draft or scheduled → running, opening a run; gated by prerequisite tasks and the budget.
    public func start(_ id: UUID, expectedVersion: Int64? = nil, by actor: Principal) async throws -> Job {
        try await store.change(id, by: actor, .jobStart, expectedVersion: expectedVersion) { job, tx in
            try await beginOccurrence(&job, tx, worker: nil)
        }
    }

    /// Moves a draft or due scheduled job to running: gates, a new occurrence's run, and the events.
    func beginOccurrence(_ job: inout Job, _ tx: JobTransaction, worker: String?) async throws -> [EventDraft] {
        let from = job.status
        try job.move(to: .running, via: "job.start", now: tx.now)
        try await checkGates(job, tx)
        let slot = job.nextRunAt ?? tx.now
        job.runCount += 1
        job.attempt = 1
        job.currentSlot = slot
        job.nextRunAt = nil
        job.beginRunning(now: tx.now)
        var run = JobRun(jobId: job.id, tenantId: job.tenantId, runNumber: job.runCount, attempt: 1,
                         scheduledFor: slot, startedAt: tx.now)
        run.instanceId = configuration.instanceId
        run.claimedBy = worker
        tx.openRun(run, refusal: DocketError(.invalidTransition, "job \(job.idText): the slot \(Timestamp.format(slot)) has already run"))
        return Self.occurrenceEvents(job, from: from, actor: tx.actor.id)
    }

    /// The events of an occurrence's start.
    static func occurrenceEvents(_ job: Job, from: JobStatus, actor: String?) -> [EventDraft] {
        EventDraft.jobTransition(job, from: from, actor: actor, data: ["attempt": .number(1)])
    }

    /// Whether the status table lets `job.start` move a scheduled job to running: the condition of the statements that
    /// start many jobs at once, which take scheduled jobs only.
    static var startsScheduled: Bool { JobStatus.machine.allows(from: .scheduled, to: .running, via: "job.start") }

    /// The events of a scheduled job's start, drafted for a stand-in: what the statements that start many jobs at
    /// once write for each (`JobQueries.claimPlain`, `startDuePlain`), with its tenant and id.
    static func occurrenceEvents(tenant: String, actor: String, now: Date) -> [EventDraft] {
        var started = Job(id: .random(), tenantId: tenant, name: "", createdBy: actor, now: now)
        started.status = .running
        return occurrenceEvents(started, from: .scheduled, actor: actor)
    }

    /// Prerequisite tasks must be completed, the job's queue must admit one more start, and the tenant's budget must
    /// admit the job's cost. A gate its lock found nothing to check for (`JobGates`) costs no query.
    func checkGates(_ job: Job, _ tx: JobTransaction) async throws {
        let gates = tx.gates[job.id]
        let open = gates.links ? try await tx.links.openTasks(job: job.id, relationship: "prerequisite") : []
        if !open.isEmpty {
            throw DocketError(.dependencyError,
                "job \(job.idText) cannot start: prerequisite task(s) not completed: "
                    + open.map { $0.uuidString.lowercased() }.joined(separator: ", "),
                details: ["job_id": .string(job.idText), "tasks": .array(open.map { .string($0.uuidString.lowercased()) })])
        }
        if gates.queueSettings { try await admit(job, tx) }
        guard gates.budget, let budget = try await tx.budgets.find(tenant: job.tenantId, lock: true) else { return }
        let spent = try await tx.jobs.spend(tenant: job.tenantId, since: budget.periodStart(now: tx.now), excluding: job.id)
        try budget.admit(spent: spent, cost: job.actualCost ?? job.estimatedCost ?? .zero, jobId: job.idText)
    }

    /// `job.complete`: running → succeeded (or failed when `success` is false), closing the run.
    public func complete(_ id: UUID, _ outcome: JobOutcome, expectedVersion: Int64? = nil, by actor: Principal) async throws -> Job {
        guard outcome.success else {
            return try await fail(id, errorCode: outcome.errorCode, errorMessage: outcome.errorMessage ?? outcome.resultSummary,
                                  actualCost: outcome.actualCost, output: outcome.output, expectedVersion: expectedVersion, by: actor)
        }
        return try await store.changeUnlocked(id, by: actor, .jobComplete, expectedVersion: expectedVersion, group: changeGroup) { job, tx in
            let from = job.status
            try job.move(to: .succeeded, via: "job.complete", now: tx.now)
            let open = tx.gates[job.id].links ? try await tx.links.openTasks(job: job.id, relationship: "primary") : []
            if !open.isEmpty {
                throw DocketError(.dependencyError,
                    "job \(job.idText) cannot succeed: primary task(s) not completed: "
                        + open.map { $0.uuidString.lowercased() }.joined(separator: ", "),
                    details: ["job_id": .string(job.idText), "tasks": .array(open.map { .string($0.uuidString.lowercased()) })])
            }
            job.resultSummary = outcome.resultSummary ?? job.resultSummary
            job.output = outcome.output ?? job.output
            job.addCost(outcome.actualCost)
            job.endRunning(now: tx.now, retryDelay: nil)
            tx.closeRun(RunClosing(job: job.id, status: .succeeded, at: tx.now, actualCost: outcome.actualCost,
                                   resultSummary: outcome.resultSummary))
            if let rearmed = try rearm(&job, from: from, occurrence: .succeeded, tx) { return rearmed }
            return EventDraft.jobTransition(job, from: from, actor: tx.actor.id,
                                            data: ["result_summary": job.resultSummary.wireString])
        }
    }

    /// `job.fail`: running → failed, closing the run; with a retry policy that allows more, `retry_at` is set.
    public func fail(
        _ id: UUID, errorCode: String?, errorMessage: String?, actualCost: Money? = nil, output: JSONValue? = nil,
        expectedVersion: Int64? = nil, by actor: Principal
    ) async throws -> Job {
        try await store.changeUnlocked(id, by: actor, .jobFail, expectedVersion: expectedVersion, group: changeGroup) { job, tx in
            let from = job.status
            try job.move(to: .failed, via: "job.fail", now: tx.now)
            job.errorCode = errorCode ?? "FAILED"
            job.errorMessage = errorMessage
            job.output = output ?? job.output
            job.addCost(actualCost)
            var random = SystemRandomNumberGenerator()
            job.endRunning(now: tx.now, retryDelay: job.retryDelay(using: &random))
            tx.closeRun(RunClosing(job: job.id, status: .failed, at: tx.now, errorCode: job.errorCode,
                                   errorMessage: errorMessage, actualCost: actualCost))
            if job.retryAt == nil, let rearmed = try rearm(&job, from: from, occurrence: .failed, tx) { return rearmed }
            return EventDraft.jobTransition(job, from: from, actor: tx.actor.id, data: [
                "error_code": job.errorCode.wireString, "error_message": errorMessage.wireString,
                "retry_at": job.retryAt.wire,
            ])
        }
    }

    /// Re-arms a recurring job whose occurrence just ended as `occurrence` (SPEC 4.3): running → scheduled for its next
    /// slot under the misfire policy, in the same transaction. Nil when the job is not recurring or has no slot left
    /// (it then keeps its terminal status).
    func rearm(_ job: inout Job, from: JobStatus, occurrence: JobStatus, _ tx: JobTransaction) throws -> [EventDraft]? {
        guard let json = job.schedule, let schedule = try? Schedule(json: json), schedule.isRecurring,
              let slot = schedule.nextSlot(afterOccurrence: job.currentSlot ?? job.startedAt ?? tx.now, now: tx.now,
                                           runsSoFar: job.runCount) else { return nil }
        job.status = from
        try job.move(to: .scheduled, via: JobStatus.rearmOperation, now: tx.now)
        job.nextRunAt = slot
        job.retryAt = nil
        return EventDraft.jobTransition(job, from: from, actor: tx.actor.id, data: [
            "next_run_at": slot.wireValue, "occurrence": .string(occurrence.rawValue), "run_number": .number(Double(job.runCount)),
        ])
    }

    /// `job.cancel`: ends the job now, or — graceful on a running job — asks its worker to stop (`cancel_requested`).
    public func cancel(_ id: UUID, reason: String?, mode: StopMode = .graceful, expectedVersion: Int64? = nil, by actor: Principal) async throws -> Job {
        try await store.change(id, by: actor, .jobCancel, expectedVersion: expectedVersion) { job, tx in
            if mode == .graceful, job.status == .running {
                guard !job.isCancelRequested else { return [] }
                job.cancelRequested = .object(["mode": .string("graceful"), "reason": reason.wireString,
                                               "requested_at": tx.now.wireValue])
                job.cancelDeadlineAt = tx.now.addingTimeInterval(configuration.cancelGraceSeconds)
                return [.job(.jobCancelRequested, job, actor: tx.actor.id,
                             data: ["reason": reason.wireString, "grace_until": job.cancelDeadlineAt.wire])]
            }
            let from = job.status
            try job.move(to: .cancelled, via: "job.cancel", now: tx.now)
            job.errorMessage = reason ?? job.errorMessage
            if from == .running || from == .paused {
                job.endRunning(now: tx.now, retryDelay: nil)
                tx.closeRun(RunClosing(job: job.id, status: .cancelled, at: tx.now, errorMessage: reason))
            } else {
                job.retryAt = nil
                job.nextRunAt = nil
                job.finishedAt = tx.now
                job.armCallback(now: tx.now)
            }
            var events = EventDraft.jobTransition(job, from: from, actor: tx.actor.id,
                                                  data: ["reason": reason.wireString, "mode": .string(mode.rawValue)])
            // SPEC 2.6: the job's open tasks are cancelled in this same transaction.
            events += try await TaskReactions.jobCancelled(job, mode: mode, connection: tx)
            return events
        }
    }

    /// `job.retry`: a failed, succeeded or cancelled job runs again as the next attempt of its occurrence.
    public func retry(_ id: UUID, expectedVersion: Int64? = nil, by actor: Principal, operation: String = "job.retry") async throws -> Job {
        try await store.change(id, by: actor, .jobRetry, expectedVersion: expectedVersion) { job, tx in
            let from = job.status
            try job.move(to: .running, via: operation, now: tx.now)
            try await checkGates(job, tx)
            return nextAttempt(&job, from: from, tx)
        }
    }

    /// A job just moved to running by a retry begins its next attempt: its run opens (with the job's write) and its
    /// events say so. Shared by `job.retry` and the retry sweep's batch.
    func nextAttempt(_ job: inout Job, from: JobStatus, _ tx: JobTransaction) -> [EventDraft] {
        job.attempt += 1
        if job.runCount == 0 { job.runCount = 1 }
        let slot = job.currentSlot ?? job.startedAt ?? tx.now
        job.currentSlot = slot
        job.beginRunning(now: tx.now)
        var run = JobRun(jobId: job.id, tenantId: job.tenantId, runNumber: job.runCount, attempt: job.attempt,
                         scheduledFor: slot, startedAt: tx.now)
        run.instanceId = configuration.instanceId
        tx.openRun(run, refusal: DocketError(.invalidTransition, "job \(job.idText): attempt \(job.attempt) has already run"))
        var events = EventDraft.jobTransition(job, from: from, actor: tx.actor.id, data: ["attempt": .number(Double(job.attempt))])
        events.append(.job(.jobRetried, job, actor: tx.actor.id, data: ["attempt": .number(Double(job.attempt))]))
        return events
    }

    /// `job.pause`: graceful asks the worker to pause at its next checkpoint; hard moves running → paused now.
    public func pause(_ id: UUID, mode: StopMode = .graceful, expectedVersion: Int64? = nil, by actor: Principal) async throws -> Job {
        try await store.change(id, by: actor, .jobPause, expectedVersion: expectedVersion) { job, tx in
            if mode == .graceful, job.status == .running {
                guard !job.pauseRequested else { return [] }
                job.pauseRequested = true
                return [.job(.jobUpdated, job, actor: tx.actor.id, data: ["pause_requested": .bool(true)])]
            }
            let from = job.status
            try job.move(to: .paused, via: "job.pause", now: tx.now)
            job.pauseRequested = false
            job.leaseExpiresAt = nil
            job.claimedBy = nil
            job.deadlineAt = nil
            return EventDraft.jobTransition(job, from: from, actor: tx.actor.id, data: ["mode": .string(mode.rawValue)])
        }
    }

    /// `job.resume`: paused → running; the worker continues from `checkpoint_data`.
    public func resume(_ id: UUID, expectedVersion: Int64? = nil, by actor: Principal) async throws -> Job {
        try await store.change(id, by: actor, .jobResume, expectedVersion: expectedVersion) { job, tx in
            let from = job.status
            try job.move(to: .running, via: "job.resume", now: tx.now)
            if tx.gates[job.id].queueSettings { try await admit(job, tx) }
            job.deadlineAt = job.timeoutSeconds.map { tx.now.addingTimeInterval(Double($0)) }
            var events = EventDraft.jobTransition(job, from: from, actor: tx.actor.id)
            events.removeAll { $0.topic == .jobStarted }
            events.append(.job(.jobResumed, job, actor: tx.actor.id, data: ["checkpoint": job.checkpointData ?? .null]))
            return events
        }
    }
}
extension Optional where Wrapped == String {
    var wireString: JSONValue { map(JSONValue.string) ?? .null }
}
