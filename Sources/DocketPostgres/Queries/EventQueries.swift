import DocketCore
import Foundation
import Logging
import PostgresNIO

/// Statements on `docket.events`, the transactional outbox and the bus order (SPEC 2.7, 4.4).
public struct EventQueries: Sendable {
    /// The channel on which instances wake each other after committing events; the payload is empty.
    public static let channel = "docket_events"
    /// The payload `docket.enqueue()` sends on the channel when its transaction commits (migration 0009).
    public static let intakePayload = "intake"

    let connection: PostgresConnection
    let logger: Logger
    /// The leader epoch stamped on the events appended (nil for what API requests write).
    let epoch: Int64?

    public init(_ connection: PostgresConnection, logger: Logger, epoch: Int64? = nil) {
        self.connection = connection
        self.logger = logger
        self.epoch = epoch
    }

    /// Appends events in the caller's transaction, in order (they get increasing `seq`). The table's statement trigger
    /// announces the transaction's lowest possible `seq` before the first one is drawn (migration 0004).
    public func append(_ events: [EventDraft]) async throws {
        guard !events.isEmpty else { return }
        Database.eventMark?.set()
        if events.count > 1 { return try await appendMany(events) }
        let event = events[0]
        try await connection.query("""
            INSERT INTO docket.events (\(unescaped: Self.insertedColumns))
            VALUES (\(event.id), \(event.topic.rawValue), \(event.tenantId), \(event.entityType.rawValue),
                \(event.entityId), \(event.actorId), \(JSONValue.object(event.data)), \(epoch))
            """, logger: logger)
    }

    /// Appends many events in one statement, their seqs in the order given (`job.create_many`).
    public func appendMany(_ events: [EventDraft]) async throws {
        guard !events.isEmpty else { return }
        Database.eventMark?.set()
        try await connection.query("""
            INSERT INTO docket.events (\(unescaped: Self.insertedColumns))
            SELECT \(unescaped: Self.selectedColumns), \(epoch)
            FROM jsonb_array_elements(\(Self.rows(events))::jsonb) WITH ORDINALITY AS a(e, n)
            ORDER BY n
            """, logger: logger)
    }

    /// What `appendMany` inserts, also the tail of a statement that writes what the events tell of
    /// (`JobQueries.insert(_:events:)`): the columns, and their values read from `rows(_:)`'s elements `e`, the leader
    /// epoch last.
    static let insertedColumns = "id, topic, tenant_id, entity_type, entity_id, actor_id, data, leader_epoch"
    static let selectedColumns = "(e->>'id')::uuid, e->>'topic', e->>'tenant_id', e->>'entity_type', e->>'entity_id', e->>'actor_id', e->'data'"

    /// The events as one JSON array, bound as one parameter.
    /// `change`: a tag carried as `change` on every element, for a statement that writes only the events of the
    /// changes that took (`JobQueries.updateManyIfUnchanged`).
    static func rows(_ events: [EventDraft], change: UUID? = nil) -> JSONValue {
        .array(events.map { event in
            var row: [String: JSONValue] = [
                "id": .string(event.id.uuidString), "topic": .string(event.topic.rawValue),
                "tenant_id": event.tenantId.map(JSONValue.string) ?? .null, "entity_type": .string(event.entityType.rawValue),
                "entity_id": event.entityId.map(JSONValue.string) ?? .null, "actor_id": event.actorId.map(JSONValue.string) ?? .null,
                "data": .object(event.data),
            ]
            if let change { row["change"] = .string(change.uuidString) }
            return .object(row)
        })
    }

    /// The highest `seq` below which no event can still commit. Must run as its own statement, before the read that
    /// uses it, so that read's snapshot is taken after every bound it relied on.
    public func horizon() async throws -> Int64 {
        let rows = try await connection.query("SELECT docket.events_horizon()", logger: logger).collect()
        return try rows.first?.decode(Int64?.self) ?? 0
    }

    /// Events with `afterSeq < seq <= throughSeq`, oldest first: what a bus reader delivers next.
    public func list(afterSeq: Int64, throughSeq: Int64, limit: Int) async throws -> [Event] {
        let rows = try await connection.query("""
            SELECT \(unescaped: Self.columns) FROM docket.events
            WHERE seq > \(afterSeq) AND seq <= \(throughSeq)
            ORDER BY seq LIMIT \(Int32(limit))
            """, logger: logger)
        return try await Self.decode(rows)
    }

    /// Events after `afterSeq` up to the horizon that a reader may see: of `tenant` (any tenant when nil, plus cluster
    /// events when `clusterEvents`), of the `entityTypes` it may read, whose topic matches one of the LIKE `patterns`.
    public func list(
        afterSeq: Int64, throughSeq: Int64, tenant: String?, entityTypes: [String], clusterEvents: Bool,
        patterns: [String], limit: Int
    ) async throws -> [Event] {
        let rows = try await connection.query("""
            SELECT \(unescaped: Self.columns) FROM docket.events
            WHERE seq > \(afterSeq) AND seq <= \(throughSeq)
              AND entity_type = ANY(\(entityTypes)) AND topic LIKE ANY(\(patterns))
              AND (tenant_id = \(tenant) OR (\(tenant)::text IS NULL AND tenant_id IS NOT NULL)
                   OR (tenant_id IS NULL AND \(clusterEvents)))
            ORDER BY seq LIMIT \(Int32(limit))
            """, logger: logger)
        return try await Self.decode(rows)
    }

    /// Events of one entity (or of one tenant), oldest first.
    public func list(afterSeq: Int64, tenant: String? = nil, entity: String? = nil, limit: Int = 1000) async throws -> [Event] {
        let rows = try await connection.query("""
            SELECT \(unescaped: Self.columns) FROM docket.events
            WHERE seq > \(afterSeq) AND (\(tenant)::text IS NULL OR tenant_id = \(tenant))
              AND (\(entity)::text IS NULL OR entity_id = \(entity))
            ORDER BY seq LIMIT \(Int32(limit))
            """, logger: logger)
        return try await Self.decode(rows)
    }

    /// Wakes every listening instance (outside any write transaction: SPEC 4.4).
    public func notify() async throws {
        try await connection.query("SELECT pg_notify(\(Self.channel), '')", logger: logger)
    }

    /// How many bus listeners of other instances are connected to this database (`application_name`
    /// `docket-listener-…`): with none, a wake-up NOTIFY would reach no one.
    public func otherListeners(than own: String) async throws -> Int {
        let rows = try await connection.query("""
            SELECT count(*)::int FROM pg_stat_activity
            WHERE datname = current_database() AND application_name LIKE 'docket-listener-%' AND application_name <> \(own)
            """, logger: logger).collect()
        return try rows.first?.decode(Int.self) ?? 1
    }

    static let columns = "seq, id, topic, tenant_id, entity_type, entity_id, actor_id, occurred_at, data"

    static func decode(_ rows: PostgresRowSequence) async throws -> [Event] {
        var events: [Event] = []
        for try await row in rows {
            let (seq, id, topic, tenant, type, entity, actor, at, data) =
                try row.decode((Int64, UUID, String, String?, String, String?, String?, Date, JSONValue).self)
            events.append(Event(seq: seq, id: id, topic: topic, tenantId: tenant, entityType: type, entityId: entity,
                                actorId: actor, occurredAt: at, data: data))
        }
        return events
    }
}
