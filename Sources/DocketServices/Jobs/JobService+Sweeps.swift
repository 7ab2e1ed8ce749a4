import DocketCore
import DocketPostgres
import Foundation

extension JobService {
    /// The timeout sweep's end of running jobs past their deadline (`TIMEOUT`, run `timed_out`) or their lease
    /// (`LEASE_EXPIRED`, run `failed`), re-checked under the row lock so a heartbeat or completion that came first
    /// wins. Each of `ids` still past it ends, all in one transaction of two statements: one locks the batch, one
    /// writes every row, its run and its events (`JobQueries.updateMany`); rows another transaction holds are left for
    /// the next pass. How many ended.
    public func expire(_ ids: [UUID], lease: Bool, by actor: Principal) async throws -> Int {
        try Authorizer.check(actor, .jobFail)
        return try await store.transaction(by: actor) { tx in
            var changes: [BatchChange] = []
            for var job in try await tx.jobs.lock(ids) where actor.reaches(tenant: job.tenantId) {
                let before = job
                guard let told = try self.end(&job, lease: lease, tx) else { continue }
                changes.append(Self.batched(job, before: before, events: told, tx))
            }
            return try await tx.jobs.updateMany(changes, epoch: tx.term?.epoch).count
        }
    }

    /// A job changed under a batch's lock, as the batch writes it: its version bumped, with the run it opens or closes
    /// taken from the transaction's drafts.
    private static func batched(_ job: Job, before: Job, events: [EventDraft], _ tx: JobTransaction) -> BatchChange {
        var change = BatchChange(job: job, before: before, events: events)
        change.job.version = before.version + 1
        change.job.updatedAt = tx.now
        for drafted in tx.runWrites.take(job: job.id) {
            switch drafted.write {
            case .open(let run): change.opening = run
            case .close(let closing): change.closing = closing
            case .claim: continue
            }
        }
        return change
    }

    /// Ends a running job past its deadline or lease as failed (re-armed when recurring with no retry left); its
    /// events, or nil when it is not (or no longer) past it.
    private func end(_ job: inout Job, lease: Bool, _ tx: JobTransaction) throws -> [EventDraft]? {
        guard job.status == .running else { return nil }
        let due = lease ? job.leaseExpiresAt : job.deadlineAt
        guard let due, due <= tx.now else { return nil }
        let code = lease ? "LEASE_EXPIRED" : "TIMEOUT"
        let message = lease ? "the worker's lease ran out at \(Timestamp.format(due))"
                            : "running longer than timeout_seconds (\(job.timeoutSeconds ?? 0) s)"
        try job.move(to: .failed, via: "job.fail", now: tx.now)
        job.errorCode = code
        job.errorMessage = message
        var random = SystemRandomNumberGenerator()
        job.endRunning(now: tx.now, retryDelay: job.retryDelay(using: &random))
        tx.closeRun(RunClosing(job: job.id, status: lease ? .failed : .timedOut, at: tx.now, errorCode: code, errorMessage: message))
        var events = [EventDraft.job(.jobTimedOut, job, actor: tx.actor.id, data: ["error_code": .string(code)])]
        if job.retryAt == nil, let rearmed = try rearm(&job, from: .running, occurrence: .failed, tx) {
            return events + rearmed
        }
        events += EventDraft.jobTransition(job, from: .running, actor: tx.actor.id, data: [
            "error_code": .string(code), "retry_at": job.retryAt.wire])
        return events
    }

    /// The timeout sweep's end of a graceful cancel nobody finished: cancelled hard once its grace has passed.
    public func cancelPastGrace(_ id: UUID, by actor: Principal) async throws -> Job? {
        let job = try await store.read(id, by: actor, .jobCancel)
        guard job.status == .running, let grace = job.cancelDeadlineAt, grace <= clock() else { return nil }
        let reason = job.cancelRequested?["reason"].flatMap { if case .string(let text) = $0 { text } else { nil } }
        return try await cancel(id, reason: reason ?? "graceful cancel not finished within its grace", mode: .hard,
                                expectedVersion: job.version, by: actor)
    }

    /// The retry sweep: a failed job whose backoff has passed runs its next attempt.
    public func retryDue(_ id: UUID, by actor: Principal) async throws -> Job? {
        let job = try await store.read(id, by: actor, .jobRetry)
        guard job.status == .failed, let at = job.retryAt, at <= clock() else { return nil }
        return try await retry(id, expectedVersion: job.version, by: actor, operation: JobStatus.retrySweepOperation)
    }

    /// The retry sweep's batch: each of `ids` still failed past its backoff, with no gate to check (no prerequisite
    /// links, queue settings or budget), runs its next attempt as `job.retry` would — all in one transaction of two
    /// statements: one locks the batch with its gates, one writes every row, its opened run and its events
    /// (`JobQueries.updateMany`). Returns the ids retried; the others (gated, held by another transaction, no longer
    /// due, or whose attempt already has a run) are left to `retryDue(_:by:)` one at a time.
    public func retryDue(_ ids: [UUID], by actor: Principal) async throws -> Set<UUID> {
        try Authorizer.check(actor, .jobRetry)
        return try await store.transaction(by: actor) { tx in
            var changes: [BatchChange] = []
            for (var job, gates) in try await tx.jobs.lockWithGates(ids) where actor.reaches(tenant: job.tenantId) {
                guard !gates.links, !gates.queueSettings, !gates.budget,
                      job.status == .failed, let at = job.retryAt, at <= tx.now else { continue }
                let before = job
                try job.move(to: .running, via: JobStatus.retrySweepOperation, now: tx.now)
                let told = self.nextAttempt(&job, from: before.status, tx)
                changes.append(Self.batched(job, before: before, events: told, tx))
            }
            return try await tx.jobs.updateMany(changes, epoch: tx.term?.epoch)
        }
    }

    /// The recurrence sweep's batch of due jobs nothing gates, started for no worker in one statement
    /// (`JobQueries.startDuePlain`: one-time jobs without links, queue settings or budget); returns how many.
    public func startDuePlain(limit: Int, by actor: Principal) async throws -> Int {
        try Authorizer.check(actor, .jobStart)
        guard Self.startsScheduled else { return 0 }
        let now = clock(), epoch = term?.epoch, instance = configuration.instanceId, logger = self.logger
        let events = Self.occurrenceEvents(tenant: actor.tenantId, actor: actor.id, now: now)
        return try await database.transaction(fencedBy: term) { connection in
            try await JobQueries(connection, logger: logger).startDuePlain(
                now: now, limit: limit, instance: instance, actor: actor.id, epoch: epoch, events: events)
        }
    }

    /// The recurrence sweep: a scheduled job whose time has come starts its occurrence (one run per slot), or — when
    /// the misfire policy skips the late slot — is re-armed for its next slot without running.
    public func fireDue(_ id: UUID, by actor: Principal) async throws -> Job {
        try await store.change(id, by: actor, .jobStart) { job, tx in
            guard job.status == .scheduled, let due = job.nextRunAt, due <= tx.now else { return [] }
            let schedule = job.schedule.flatMap { try? Schedule(json: $0) }
            if let schedule, schedule.isRecurring, schedule.dueSlot(scheduled: due, now: tx.now) == nil {
                guard let next = schedule.nextSlot(afterOccurrence: due, now: tx.now, runsSoFar: job.runCount) else {
                    job.nextRunAt = nil
                    try job.move(to: .cancelled, via: "job.cancel", now: tx.now)
                    job.finishedAt = tx.now
                    job.armCallback(now: tx.now)
                    return EventDraft.jobTransition(job, from: .scheduled, actor: tx.actor.id, data: ["reason": .string("no slot left")])
                }
                job.nextRunAt = next
                return [.job(.jobScheduled, job, actor: tx.actor.id, data: ["next_run_at": next.wireValue, "skipped": due.wireValue])]
            }
            if let slot = schedule?.dueSlot(scheduled: due, now: tx.now) { job.nextRunAt = slot }
            return try await beginOccurrence(&job, tx, worker: nil)
        }
    }
}
