import DocketCore
import DocketPostgres
import Foundation

extension JobService {
    /// What one intake pass did.
    public struct IntakeResult: Sendable, Hashable {
        /// Requests taken (created or refused).
        public var taken: Int
        public var created: Int
        public var refused: Int
    }

    /// Turns up to `limit` committed `docket.enqueue()` requests into jobs (docs/sql-enqueue.md), in one transaction:
    /// each is read as `job.create`'s arguments and checked by the same code, created with the id its caller was
    /// given and the same events, or refused with the code `job.create` would give; either way the request records it.
    ///
    /// Each request acts as `sql:<role>` of its tenant with `job:write`. A batch the database refuses as a whole is
    /// taken again one request at a time, so one bad request never holds up the others.
    public func admitRequests(limit: Int, by actor: Principal) async throws -> IntakeResult {
        do {
            return try await admitBatch(limit: limit, by: actor)
        } catch let error as DocketError where error.code != .unavailable && limit > 1 {
            var total = IntakeResult(taken: 0, created: 0, refused: 0)
            for _ in 0..<limit {
                let one = try await admitRequests(limit: 1, by: actor)
                guard one.taken > 0 else { break }
                total.taken += one.taken
                total.created += one.created
                total.refused += one.refused
            }
            return total
        } catch let error as DocketError where error.code != .unavailable {
            // This one request is what the database refuses: record the refusal, in a transaction of its own.
            return try await store.transaction(by: actor) { tx in
                guard let request = try await tx.requests.lockPending(limit: 1).first else { return IntakeResult(taken: 0, created: 0, refused: 0) }
                try await tx.requests.finish([(request.id, .refused(error))], now: tx.now)
                return IntakeResult(taken: 1, created: 0, refused: 1)
            }
        }
    }

    private func admitBatch(limit: Int, by actor: Principal) async throws -> IntakeResult {
        try await store.transaction(by: actor) { tx in
            let requests = try await tx.requests.lockPending(limit: limit)
            var outcomes: [(request: Int64, outcome: JobRequestQueries.Outcome)] = []
            var drafts: [(request: Int64, job: Job, by: Principal)] = []
            for request in requests {
                let requester = Principal(id: "sql:\(request.requestedBy)", type: .service, tenantId: request.tenantId, scopes: [.jobWrite])
                do {
                    let input = try JobCreate(try Arguments(json: request.arguments))
                    let tenant = try requester.tenant(for: input.tenantId)
                    try Authorizer.check(requester, .jobCreate, tenant: tenant)
                    var job = try Self.draft(input, tenant: tenant, by: requester, now: tx.now)
                    job.id = request.jobId
                    drafts.append((request.id, job, requester))
                } catch let error as DocketError {
                    outcomes.append((request.id, .refused(error)))
                }
            }
            let inserted = try await tx.jobs.insertMany(drafts.map(\.job))
            var events: [EventDraft] = []
            for draft in drafts {
                if inserted.contains(draft.job.id) {
                    outcomes.append((draft.request, .created(job: draft.job.id)))
                    events += Self.createdEvents(draft.job, by: draft.by)
                } else if let key = draft.job.idempotencyKey,
                          let existing = try await tx.jobs.find(tenant: draft.job.tenantId, idempotencyKey: key) {
                    outcomes.append((draft.request, .created(job: existing.id)))
                } else {
                    throw DocketError(.internal, "job \(draft.job.id) of request \(draft.request) was neither inserted nor found")
                }
            }
            try await tx.events.appendMany(events)
            try await tx.requests.finish(outcomes, now: tx.now)
            let created = outcomes.filter { if case .created = $0.outcome { true } else { false } }.count
            return IntakeResult(taken: requests.count, created: created, refused: requests.count - created)
        }
    }

    /// Deletes up to `limit` requests processed before `before` (they keep a week: docs/sql-enqueue.md).
    public func pruneRequests(processedBefore before: Date, limit: Int, by actor: Principal) async throws -> Int {
        try await store.transaction(by: actor) { tx in try await tx.requests.prune(processedBefore: before, limit: limit) }
    }
}
