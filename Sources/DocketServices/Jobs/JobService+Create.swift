import DocketCore
import DocketPostgres
import Foundation
import PostgresNIO

extension JobService {
    /// `job.create`: a draft job, or a scheduled one when given a `schedule`; an `idempotency_key` seen before in the
    /// tenant returns the first job instead of a second one.
    public func create(_ input: JobCreate, by actor: Principal) async throws -> Job {
        let key = input.idempotencyKey
        if key == nil, term == nil, let group = createGroup {
            // No key to look up first: written with whatever other creates arrive meanwhile, in one statement.
            let tenant = try actor.tenant(for: input.tenantId)
            try Authorizer.check(actor, .jobCreate, tenant: tenant)
            let job = try Self.draft(input, tenant: tenant, by: actor, now: clock())
            try await group.insert(job, events: Self.createdEvents(job, by: actor))
            return job
        }
        guard let key else {
            // No key to look up first: the job and its events are one statement, one round trip.
            return try await store.inTenant(input.tenantId, by: actor, .jobCreate, write: true, oneStatement: true) { tx, tenant in
                let job = try Self.draft(input, tenant: tenant, by: actor, now: tx.now)
                try await tx.jobs.insert(job, events: Self.createdEvents(job, by: actor), epoch: tx.term?.epoch)
                return job
            }
        }
        do {
            return try await store.inTenant(input.tenantId, by: actor, .jobCreate, write: true) { tx, tenant in
                if let existing = try await tx.jobs.find(tenant: tenant, idempotencyKey: key) { return existing }
                let job = try Self.draft(input, tenant: tenant, by: actor, now: tx.now)
                try await tx.jobs.insert(job, events: Self.createdEvents(job, by: actor), epoch: tx.term?.epoch)
                return job
            }
        } catch let error where Database.violatedConstraint(error, state: "23505") == "jobs_idempotency_key" {
            // A concurrent create with the same key won the race: return its job.
            return try await store.inTenant(input.tenantId, by: actor, .jobCreate, write: false) { tx, tenant in
                guard let existing = try await tx.jobs.find(tenant: tenant, idempotencyKey: key) else {
                    throw DocketError(.internal, "idempotent create lost its job")
                }
                return existing
            }
        }
    }

    /// `job.create_many`: up to 1,000 creates in one transaction, all or nothing: one statement inserts the jobs and
    /// one their events. A refusal names the job at fault (`details.index`); a job whose `idempotency_key` its tenant
    /// already has comes back as the first job, in its place.
    public func createMany(_ input: JobCreateMany, by actor: Principal) async throws -> [Job] {
        try Authorizer.check(actor, .jobCreateMany)
        var resolved: [String] = []
        for (index, job) in input.jobs.enumerated() {
            do throws(DocketError) {
                let tenant = try actor.tenant(for: job.tenantId)
                try Authorizer.check(actor, .jobCreateMany, tenant: tenant)
                resolved.append(tenant)
            } catch {
                throw error.at(index: index)
            }
        }
        let tenants = resolved
        return try await store.transaction(by: actor) { tx in
            var drafts: [Job] = []
            for (index, job) in input.jobs.enumerated() {
                do {
                    drafts.append(try Self.draft(job, tenant: tenants[index], by: actor, now: tx.now))
                } catch let error as DocketError {
                    throw error.at(index: index)
                }
            }
            let inserted = try await tx.jobs.insertMany(drafts)
            var jobs: [Job] = [], events: [EventDraft] = []
            for job in drafts {
                if inserted.contains(job.id) {
                    jobs.append(job)
                    events += Self.createdEvents(job, by: actor)
                } else if let key = job.idempotencyKey, let existing = try await tx.jobs.find(tenant: job.tenantId, idempotencyKey: key) {
                    jobs.append(existing)
                } else {
                    throw DocketError(.internal, "job \(job.id) was neither inserted nor found by its idempotency key")
                }
            }
            try await tx.events.appendMany(events)
            return jobs
        }
    }

    /// The job `input` describes, not stored yet: a draft, or scheduled for its first slot.
    static func draft(_ input: JobCreate, tenant: String, by actor: Principal, now: Date) throws -> Job {
        var job = Job(id: .random(), tenantId: tenant, name: input.name, createdBy: actor.id, now: now)
        input.fields.apply(to: &job)
        job.idempotencyKey = input.idempotencyKey
        job.queue = input.queue
        job.kind = input.kind
        job.args = input.args
        if let schedule = input.schedule {
            job.schedule = schedule.json
            job.status = .scheduled
            job.nextRunAt = try schedule.requireFirstSlot(createdAt: now)
        }
        return job
    }

    /// `job.created` (with the queue and kind a worker routes by), and `job.scheduled` for a scheduled job.
    static func createdEvents(_ job: Job, by actor: Principal) -> [EventDraft] {
        var events = [EventDraft.job(.jobCreated, job, actor: actor.id, data: [
            "name": .string(job.name), "queue": .string(job.queue), "kind": job.kind.map(JSONValue.string) ?? .null,
        ])]
        if job.status == .scheduled {
            events.append(.job(.jobScheduled, job, actor: actor.id, data: ["next_run_at": job.nextRunAt.wire]))
        }
        return events
    }

    /// `job.update`: the mutable fields only, optionally guarded by `expected_version`.
    public func update(_ id: UUID, _ input: JobInput, expectedVersion: Int64? = nil, by actor: Principal) async throws -> Job {
        try await store.change(id, by: actor, .jobUpdate, expectedVersion: expectedVersion) { job, tx in
            input.apply(to: &job)
            return [.job(.jobUpdated, job, actor: tx.actor.id,
                         data: ["fields": .array(input.changedFields.map(JSONValue.string))])]
        }
    }

    /// `job.delete`: refused while the job runs or is paused; its tasks keep living, unlinked.
    public func delete(_ id: UUID, by actor: Principal) async throws {
        try Authorizer.check(actor, .jobDelete)
        try await store.transaction(by: actor) { tx in
            let job = try await VersionedStore<Job>.locked(id, by: actor, .jobDelete, tx)
            guard job.status != .running, job.status != .paused else {
                throw DocketError(.invalidTransition,
                    "job \(job.idText) is \(job.status.rawValue); cancel it before deleting it",
                    details: ["job_id": .string(job.idText), "from": .string(job.status.rawValue)])
            }
            try await tx.jobs.delete(id)
            try await tx.events.append([.job(.jobDeleted, job, actor: actor.id, data: ["name": .string(job.name)])])
        }
    }

    /// `job.schedule`: gives a draft (or re-plans a scheduled) job its schedule and next run.
    public func schedule(_ id: UUID, schedule: Schedule, expectedVersion: Int64? = nil, by actor: Principal) async throws -> Job {
        try await store.change(id, by: actor, .jobSchedule, expectedVersion: expectedVersion) { job, tx in
            let first = try schedule.requireFirstSlot(createdAt: tx.now)
            let from = job.status
            if from != .scheduled { try job.move(to: .scheduled, via: "job.schedule", now: tx.now) }
            job.schedule = schedule.json
            job.nextRunAt = first
            let data: [String: JSONValue] = ["next_run_at": first.wireValue]
            if from == .scheduled { return [.job(.jobScheduled, job, actor: tx.actor.id, data: data)] }
            return EventDraft.jobTransition(job, from: from, actor: tx.actor.id, data: data)
        }
    }
}

extension Optional where Wrapped == Date {
    var wire: JSONValue { map { .string(Timestamp.format($0)) } ?? .null }
}

extension Date {
    var wireValue: JSONValue { .string(Timestamp.format(self)) }
}
