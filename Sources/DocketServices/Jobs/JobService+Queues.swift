import DocketCore
import DocketPostgres
import Foundation
import Synchronization

extension JobService {
    /// The job's queue admits one more start (docs/protocol.md, "Queues"). A queue with limits has its row locked
    /// exclusively first, so concurrent starts in that queue take turns on every instance while other queues never
    /// wait; then its running jobs and its starts in the rate window are counted against its limits. Starts in a queue
    /// without limits only share its row's lock: they do not wait for each other, and a pause waits for them.
    func admit(_ job: Job, _ tx: JobTransaction) async throws {
        guard let seen = try await tx.queues.find(tenant: job.tenantId, name: job.queue) else { return }
        let limited = seen.concurrency != nil || seen.rateLimit != nil
        // Read again under the lock: the settings may have changed since; a start that finds limits added under its
        // shared lock takes the exclusive one too.
        guard var queue = try await tx.queues.find(tenant: job.tenantId, name: job.queue, lock: limited ? .update : .share) else { return }
        if !limited, queue.concurrency != nil || queue.rateLimit != nil {
            queue = try await tx.queues.find(tenant: job.tenantId, name: job.queue, lock: .update) ?? queue
        }
        let running = queue.concurrency == nil ? 0 : try await tx.queues.running(tenant: job.tenantId, name: job.queue)
        var starts = 0
        if let rate = queue.rateLimit {
            starts = try await tx.queues.starts(tenant: job.tenantId, name: job.queue,
                                                since: tx.now.addingTimeInterval(-Double(rate.perSeconds)))
        }
        if let refusal = queue.refusal(running: running, recentStarts: starts) {
            refusals.count(tenant: job.tenantId, queue: job.queue, limit: refusal.details["limit"]?.stringValue ?? "?")
            throw refusal
        }
    }

    /// Every queue of every tenant with its counts, for `/metrics` (at most `limit`).
    public func queueOverview(limit: Int = 500) async throws -> [Queue] {
        try await database.read { connection in try await QueueQueries(connection, logger: self.database.logger).list(tenant: nil, limit: limit) }
    }

    /// `queue.list`: every queue of the tenant, with its settings and counts.
    public func queues(tenant requested: String? = nil, by actor: Principal) async throws -> [Queue] {
        try await store.inTenant(requested, by: actor, .queueList, write: false) { tx, tenant in
            try await tx.queues.list(tenant: tenant)
        }
    }

    /// `queue.get`: one queue (one that has neither settings nor jobs has the defaults and no counts).
    public func queue(_ name: String, tenant requested: String? = nil, by actor: Principal) async throws -> Queue {
        try await store.inTenant(requested, by: actor, .queueGet, write: false) { tx, tenant in
            try await tx.queues.list(tenant: tenant, name: name).first ?? Queue(tenantId: tenant, name: name)
        }
    }

    /// `queue.update`: the given settings; null clears a limit. `queue.updated` names what changed.
    public func updateQueue(_ input: QueueUpdate, by actor: Principal) async throws -> Queue {
        try await changeQueue(input.queue, by: actor, .queueUpdate) { queue in
            var changed: [String] = []
            if let concurrency = input.concurrency { queue.concurrency = concurrency; changed.append("concurrency") }
            if let rateLimit = input.rateLimit { queue.rateLimit = rateLimit; changed.append("rate_limit") }
            if let weight = input.weight { queue.weight = weight; changed.append("weight") }
            return changed.isEmpty ? nil : (.queueUpdated, ["fields": .array(changed.map(JSONValue.string))])
        }
    }

    /// `queue.pause` (nothing of the queue starts; running jobs go on) and `queue.resume`.
    public func setQueuePaused(_ ref: QueueRef, paused: Bool, by actor: Principal) async throws -> Queue {
        try await changeQueue(ref, by: actor, paused ? .queuePause : .queueResume) { queue in
            guard queue.paused != paused else { return nil }
            queue.paused = paused
            return (paused ? .queuePaused : .queueResumed, [:])
        }
    }

    /// Locks (or makes) the queue's settings row, applies `change`, and stores it with its event when it changed.
    private func changeQueue(
        _ ref: QueueRef, by actor: Principal, _ operation: ServiceOperation,
        _ change: @escaping @Sendable (inout Queue) -> (Topic, [String: JSONValue])?
    ) async throws -> Queue {
        try await store.inTenant(ref.tenantId, by: actor, operation, write: true) { tx, tenant in
            var queue = try await tx.queues.find(tenant: tenant, name: ref.name, lock: .update) ?? Queue(tenantId: tenant, name: ref.name)
            guard let (topic, data) = change(&queue) else { return queue }
            let saved = try await tx.queues.save(queue)
            var eventData = data
            eventData["queue"] = .string(saved.name)
            try await tx.events.append([EventDraft(topic: topic, tenantId: tenant, entityType: .queue, entityId: saved.name,
                                                   actorId: actor.id, data: eventData)])
            return saved
        }
    }
}

/// Starts refused by a queue's limits, by tenant, queue and limit, since this instance started (for `/metrics`).
public final class QueueRefusals: Sendable {
    public struct Key: Hashable, Sendable {
        public var tenant: String
        public var queue: String
        public var limit: String
    }

    private let counts = Mutex<[Key: Int]>([:])

    public init() {}

    func count(tenant: String, queue: String, limit: String) {
        counts.withLock { $0[Key(tenant: tenant, queue: queue, limit: limit), default: 0] += 1 }
    }

    public var snapshot: [Key: Int] { counts.withLock { $0 } }
}
