import DocketCore
import DocketPostgres
import Foundation
import Synchronization

extension JobService {
    /// `job.claim`: atomically takes up to `limit` due jobs for a worker, highest priority first, and leases them.
    ///
    /// Due means scheduled with `next_run_at <= now`, or started by the scheduler and held by no worker. Rows other
    /// claimers hold are skipped (`FOR UPDATE SKIP LOCKED`), so concurrent claimers never take the same job. A job
    /// its gates refuse (budget, prerequisites) is left for later; if every candidate was refused by the budget, the
    /// claim itself is `BUDGET_EXCEEDED`.
    public func claim(
        agent: String? = nil, limit: Int = 1, leaseSeconds: Int? = nil, queues: [String]? = nil, kinds: [String]? = nil,
        tenant requested: String? = nil, by actor: Principal
    ) async throws -> [Job] {
        try Authorizer.check(actor, .jobClaim)
        guard (1...PageRequest.maxLimit).contains(limit) else {
            throw DocketError.validation(field: "limit", "must be between 1 and \(PageRequest.maxLimit), got \(limit)")
        }
        let lease = leaseSeconds ?? configuration.defaultLeaseSeconds
        guard (1...configuration.maxLeaseSeconds).contains(lease) else {
            throw DocketError.validation(field: "lease_seconds", "must be between 1 and \(configuration.maxLeaseSeconds), got \(lease)")
        }
        // A system actor may claim across tenants unless it names one.
        let tenant: String? = actor.isSystem ? requested : try actor.tenant(for: requested)
        let worker = agent ?? actor.id
        if let tenant, let plain = try await claimPlain(tenant: tenant, queues: queues, kinds: kinds, limit: limit, lease: lease,
                                                        worker: worker, by: actor) {
            claimPaths.plain.add(1, ordering: .relaxed)
            return plain
        }
        claimPaths.transactional.add(1, ordering: .relaxed)
        return try await store.transaction(by: actor) { tx in
            var claimed: [Job] = []
            var budgetRefusal: DocketError?
            // Started queue by queue, in one order for every claimer: each start locks its queue's row, and claims
            // taking those locks in different orders would deadlock.
            let due = try await self.lockFairly(tx, tenant: tenant, queues: queues, kinds: kinds, limit: limit)
            for var job in due.sorted(by: { ($0.tenantId, $0.queue) < ($1.tenantId, $1.queue) }) {
                let before = job
                var events: [EventDraft] = []
                if job.status == .scheduled {
                    do {
                        events = try await beginOccurrence(&job, tx, worker: worker)
                    } catch let error as DocketError
                        where error.code == .budgetExceeded || error.code == .dependencyError || error.code == .rateLimited {
                        if error.code == .budgetExceeded { budgetRefusal = error }
                        continue
                    }
                } else {
                    tx.claimRun(job: job.id, worker: worker)
                }
                job.claimedBy = worker
                job.leaseExpiresAt = tx.now.addingTimeInterval(Double(lease))
                job.version = before.version + 1
                job.updatedAt = tx.now
                try await tx.write(job, from: before, events: events)
                claimed.append(job)
            }
            if claimed.isEmpty, let budgetRefusal { throw budgetRefusal }
            return Self.byPriority(claimed)
        }
    }

    /// The claim as one statement (`JobQueries.claimPlain`) when no gate applies; nil when one does (or the slot of
    /// a job it would start has run already): then the transactional path decides, and refuses, as for any claim.
    func claimPlain(tenant: String, queues: [String]?, kinds: [String]?, limit: Int, lease: Int, worker: String,
                    by actor: Principal) async throws -> [Job]? {
        guard term == nil, (queues?.count ?? 1) == 1, Self.startsScheduled else {
            return nil
        }
        let now = clock()
        let request = PlainClaimRequest(
            tenant: tenant, queue: queues?.first, kinds: kinds, limit: limit, now: now, worker: worker,
            leaseUntil: now.addingTimeInterval(Double(lease)), instance: configuration.instanceId, actor: actor.id,
            events: Self.occurrenceEvents(tenant: tenant, actor: actor.id, now: now))
        do {
            let outcome = try await claimGate.run {
                try await database.statement { connection in
                    try await JobQueries(connection, logger: self.logger).claimPlain(request)
                }
            }
            guard case .claimed(let jobs) = outcome else { return nil }
            return Self.byPriority(jobs)
        } catch where RunWrite.slotTaken(error) {
            return nil
        }
    }

    /// Locks up to `limit` due jobs for one claim. When they may come from several queues (or, for a system worker,
    /// several tenants), the slots are shared by the queues' weights among those with due work (`FairShare`); a queue
    /// that gives fewer than its share leaves the rest to the others, so no capacity idles while anyone has work.
    func lockFairly(_ tx: JobTransaction, tenant: String?, queues: [String]?, kinds: [String]?, limit: Int) async throws -> [Job] {
        // The candidates: the named queues, or every queue that has jobs (one index probe per queue).
        var due: [(tenant: String, queue: String)]
        if let queues, let tenant {
            due = queues.map { (tenant, $0) }
        } else {
            due = try await tx.jobs.queuesWithJobs(tenant: tenant)
            if let queues { due = due.filter { queues.contains($0.queue) } }
        }
        func noted(_ locked: [(Job, JobGates)]) -> [Job] {
            for (job, gates) in locked { tx.gates.record(gates, for: job.id) }
            return locked.map(\.0)
        }
        guard due.count > 1 else {
            return noted(try await tx.jobs.lockDue(tenant: tenant, queues: queues, kinds: kinds, now: tx.now, limit: limit))
        }
        // Paused and full queues take no share: a full one's slots go to the others (its room is a hint; `admit`
        // decides each start under the queue's lock).
        let settings = try await tx.queues.shares(of: due, now: tx.now)
        var pool = due.compactMap { candidate -> (tenant: String, queue: String, weight: Int, room: Int?)? in
            let stored = settings[QueueQueries.key(candidate.tenant, candidate.queue)]
            if stored?.paused == true || stored?.room == 0 { return nil }
            return (candidate.tenant, candidate.queue, stored?.weight ?? 1, stored?.room)
        }
        var random = SystemRandomNumberGenerator()
        var locked: [Job] = []
        while locked.count < limit, !pool.isEmpty {
            let shares = FairShare.allocate(limit - locked.count, weights: pool.map(\.weight), using: &random)
            var exhausted: Set<Int> = []
            for (index, share) in shares.enumerated() where share > 0 {
                let wanted = min(share, pool[index].room ?? share)
                let got = noted(try await tx.jobs.lockDue(tenant: pool[index].tenant, queues: [pool[index].queue], kinds: kinds,
                                                          excluding: locked.map(\.id), now: tx.now, limit: wanted))
                locked += got
                pool[index].room = pool[index].room.map { $0 - got.count }
                if got.count < share { exhausted.insert(index) }
            }
            guard !exhausted.isEmpty else { break }
            pool = pool.indices.filter { !exhausted.contains($0) }.map { pool[$0] }
        }
        return locked
    }

    /// Highest priority first, then the earliest due: the order a claim answers in.
    static func byPriority(_ jobs: [Job]) -> [Job] {
        jobs.sorted { ($0.priority, $1.currentSlot ?? $1.startedAt ?? .distantPast) > ($1.priority, $0.currentSlot ?? $0.startedAt ?? .distantPast) }
    }

    /// `job.heartbeat`: extends a running job's lease and tells the worker whether to cancel or pause.
    ///
    /// A job that is no longer running (paused or cancelled hard meanwhile) is reported, not refused: the answer's
    /// `status` is how the worker learns it must stop.
    public func heartbeat(
        _ id: UUID, executionContext: [String: JSONValue]? = nil, leaseSeconds: Int? = nil, by actor: Principal
    ) async throws -> HeartbeatReply {
        let lease = leaseSeconds ?? configuration.defaultLeaseSeconds
        guard (1...configuration.maxLeaseSeconds).contains(lease) else {
            throw DocketError.validation(field: "lease_seconds", "must be between 1 and \(configuration.maxLeaseSeconds), got \(lease)")
        }
        let job = try await store.changeUnlocked(id, by: actor, .jobHeartbeat, group: changeGroup) { job, tx in
            guard job.status == .running else { return [] }
            job.leaseExpiresAt = tx.now.addingTimeInterval(Double(lease))
            if let executionContext { job.executionContext = executionContext }
            return []
        }
        return HeartbeatReply(status: job.status, leaseExpiresAt: job.leaseExpiresAt,
                              cancelRequested: job.cancelRequested, pauseRequested: job.pauseRequested)
    }

    /// `job.checkpoint`: saves resumable state `{step_index, step_name, state, execution_context, saved_at}`.
    public func checkpoint(_ id: UUID, _ checkpoint: Checkpoint, by actor: Principal) async throws -> Job {
        try await store.changeUnlocked(id, by: actor, .jobCheckpoint, group: changeGroup) { job, tx in
            guard job.status == .running || job.status == .paused else {
                throw DocketError(.invalidTransition,
                    "job \(job.idText) is \(job.status.rawValue); only a running or paused job takes checkpoints",
                    details: ["job_id": .string(job.idText), "from": .string(job.status.rawValue)])
            }
            job.checkpointData = checkpoint.json(savedAt: tx.now)
            job.lastCompletedStep = checkpoint.stepIndex
            if let context = checkpoint.executionContext { job.executionContext = context }
            return [.job(.jobCheckpointed, job, actor: tx.actor.id, data: [
                "step_index": .number(Double(checkpoint.stepIndex)), "step_name": checkpoint.stepName.wireString,
            ])]
        }
    }

    /// `job.assign_agent`: hands the job to another agent, appending to its delegation chain.
    public func assignAgent(_ id: UUID, agent: String, reason: String? = nil, expectedVersion: Int64? = nil, by actor: Principal) async throws -> Job {
        guard !agent.isEmpty, agent.count <= 500 else {
            throw DocketError.validation(field: "agent", "must be 1–500 characters")
        }
        return try await store.change(id, by: actor, .jobAssignAgent, expectedVersion: expectedVersion) { job, tx in
            let previous = job.assignedAgent
            job.assign(agent: agent, reason: reason, now: tx.now)
            return [.job(.jobAgentAssigned, job, actor: tx.actor.id,
                         data: ["from": previous.wireString, "to": .string(agent), "reason": reason.wireString])]
        }
    }

    /// `job.record_metrics`: time to first token and total duration, in nanoseconds.
    public func recordMetrics(_ id: UUID, ttftNs: Int64?, totalDurationNs: Int64?, by actor: Principal) async throws -> Job {
        for (field, value) in [("ttft_ns", ttftNs), ("total_duration_ns", totalDurationNs)] where (value ?? 0) < 0 {
            throw DocketError.validation(field: field, "must not be negative")
        }
        return try await store.change(id, by: actor, .jobRecordMetrics) { job, tx in
            if let ttftNs { job.ttftNs = ttftNs }
            if let totalDurationNs { job.totalDurationNs = totalDurationNs }
            return [.job(.jobUpdated, job, actor: tx.actor.id,
                         data: ["fields": .array([ttftNs.map { _ in "ttft_ns" }, totalDurationNs.map { _ in "total_duration_ns" }]
                            .compactMap { $0 }.map(JSONValue.string))])]
        }
    }
}

/// Counts of the two claim paths (`JobService.claim`).
public final class ClaimPaths: Sendable {
    /// One statement: no gate applied.
    public let plain = Atomic(0)
    /// A transaction: a gate applied, or the claim spans tenants.
    public let transactional = Atomic(0)

    public init() {}
}
