import DocketCore
import Foundation
import Logging
import PostgresNIO

/// Statements on `docket.events`, the transactional outbox.
public struct EventQueries: Sendable {
    let connection: PostgresConnection
    let logger: Logger

    public init(_ connection: PostgresConnection, logger: Logger) {
        self.connection = connection
        self.logger = logger
    }

    /// Appends events in the caller's transaction, in order (they get increasing `seq`).
    public func append(_ events: [EventDraft]) async throws {
        let epoch = Database.leaderEpoch
        for event in events {
            try await connection.query("""
                INSERT INTO docket.events (id, topic, tenant_id, entity_type, entity_id, actor_id, data, leader_epoch)
                VALUES (\(event.id), \(event.topic.rawValue), \(event.tenantId), \(event.entityType.rawValue),
                    \(event.entityId), \(event.actorId), \(JSONValue.object(event.data)), \(epoch))
                """, logger: logger)
        }
    }

    /// Events after `seq`, oldest first (optionally one entity's or one tenant's).
    public func list(afterSeq: Int64, tenant: String? = nil, entity: String? = nil, limit: Int = 1000) async throws -> [Event] {
        let rows = try await connection.query("""
            SELECT seq, id, topic, tenant_id, entity_type, entity_id, actor_id, occurred_at, data
            FROM docket.events
            WHERE seq > \(afterSeq) AND (\(tenant)::text IS NULL OR tenant_id = \(tenant))
              AND (\(entity)::text IS NULL OR entity_id = \(entity))
            ORDER BY seq LIMIT \(Int32(limit))
            """, logger: logger).collect()
        return try rows.map { row in
            let (seq, id, topic, tenant, type, entity, actor, at, data) =
                try row.decode((Int64, UUID, String, String?, String, String?, String?, Date, JSONValue).self)
            return Event(seq: seq, id: id, topic: topic, tenantId: tenant, entityType: type, entityId: entity,
                         actorId: actor, occurredAt: at, data: data)
        }
    }
}
