import Foundation

/// A domain event about to be written in the same transaction as the change it describes (SPEC 2.7).
///
/// The database assigns `seq` (the bus order) and `occurred_at`; `id` is chosen here so callers can refer to it.
public struct EventDraft: Sendable, Hashable {
    public enum EntityType: String, Sendable, Hashable, Codable {
        case job, task, cluster, queue
    }

    public var id: UUID
    public var topic: Topic
    public var tenantId: String?
    public var entityType: EntityType
    public var entityId: String?
    public var actorId: String?
    public var data: [String: JSONValue]

    public init(
        topic: Topic, tenantId: String?, entityType: EntityType, entityId: String?, actorId: String?,
        data: [String: JSONValue] = [:], id: UUID = .random()
    ) {
        self.id = id
        self.topic = topic
        self.tenantId = tenantId
        self.entityType = entityType
        self.entityId = entityId
        self.actorId = actorId
        self.data = data
    }

    /// An event about `job`.
    public static func job(_ topic: Topic, _ job: Job, actor: String?, data: [String: JSONValue] = [:]) -> EventDraft {
        EventDraft(topic: topic, tenantId: job.tenantId, entityType: .job, entityId: job.id.uuidString.lowercased(),
                   actorId: actor, data: data)
    }

    /// The events of a job status change: `job.status_changed {from, to}` and the arrival topic, if any.
    public static func jobTransition(_ job: Job, from: JobStatus, actor: String?, data: [String: JSONValue] = [:]) -> [EventDraft] {
        var events = [EventDraft.job(.jobStatusChanged, job, actor: actor,
                                     data: ["from": .string(from.rawValue), "to": .string(job.status.rawValue)])]
        if let arrival = Topic.arrival(job.status) {
            events.append(.job(arrival, job, actor: actor, data: data))
        }
        return events
    }
}

/// A stored event, as the bus and `events.list` deliver it.
public struct Event: Sendable, Hashable {
    public var seq: Int64
    public var id: UUID
    public var topic: String
    public var tenantId: String?
    public var entityType: String
    public var entityId: String?
    public var actorId: String?
    public var occurredAt: Date
    public var data: JSONValue

    public init(seq: Int64, id: UUID, topic: String, tenantId: String?, entityType: String, entityId: String?,
                actorId: String?, occurredAt: Date, data: JSONValue) {
        self.seq = seq
        self.id = id
        self.topic = topic
        self.tenantId = tenantId
        self.entityType = entityType
        self.entityId = entityId
        self.actorId = actorId
        self.occurredAt = occurredAt
        self.data = data
    }

    /// The envelope of SPEC 2.7.

}
