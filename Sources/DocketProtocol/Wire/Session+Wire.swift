import DocketCore

extension Principal: WireEncodable {
    /// The actor of SPEC 2.1: `{id, type, tenant_id, scopes}`.
    public var wire: JSONValue {
        .object(["id": .string(id), "type": .string(type.rawValue), "tenant_id": .string(tenantId),
                 "scopes": .array(scopes.map(\.rawValue).sorted().map(JSONValue.string))])
    }
}

extension APIKeyRecord: WireEncodable {
    /// A key without its secret.
    public var wire: JSONValue {
        .object([
            "id": .string(id), "actor_id": .string(actor.id), "actor_type": .string(actor.type.rawValue),
            "tenant_id": .string(actor.tenantId), "scopes": .array(actor.scopes.map(\.rawValue).sorted().map(JSONValue.string)),
            "description": description.wire, "created_at": createdAt.wire, "expires_at": expiresAt.wire,
            "revoked_at": revokedAt.wire, "last_used_at": lastUsedAt.wire,
        ])
    }
}

extension Event: WireEncodable {
    /// The envelope of SPEC 2.7.
    public var wire: JSONValue {
        .object([
            "seq": seq.wire, "id": id.wire, "topic": .string(topic), "tenant_id": tenantId.wire,
            "entity_type": .string(entityType), "entity_id": entityId.wire, "actor_id": actorId.wire,
            "occurred_at": occurredAt.wire, "data": data,
        ])
    }
}

extension ClusterStatus: WireEncodable {
    /// `{instances, leader, this_instance, sweeps}`.
    public var wire: JSONValue {
        .object([
            "instances": .array(instances.map { instance in
                .object([
                    "id": .string(instance.id), "address": instance.address.wire, "http_address": instance.httpAddress.wire,
                    "version": .string(instance.version), "hostname": instance.hostname.wire, "pid": instance.pid.wire,
                    "status": .string(instance.status), "started_at": instance.startedAt.wire,
                    "heartbeat_at": instance.heartbeatAt.wire,
                ])
            }),
            "leader": leader.map { term in
                .object(["instance_id": term.instanceId.wire, "epoch": term.epoch.wire, "since": term.electedAt.wire,
                         "heartbeat_at": term.heartbeatAt.wire])
            } ?? .null,
            "this_instance": thisInstance.map { local in
                var fields: [String: JSONValue] = ["id": .string(local.instanceId),
                                                   "role": .string(local.leaderEpoch == nil ? "follower" : "leader")]
                if let epoch = local.leaderEpoch { fields["epoch"] = epoch.wire }
                return .object(fields)
            } ?? .null,
            "sweeps": .object(sweeps.mapValues { pass in
                .object(["instance_id": .string(pass.instanceId), "epoch": pass.epoch.wire, "last_run_at": pass.lastRunAt.wire,
                         "changed": pass.changed.wire, "duration_ms": .number(pass.durationMilliseconds),
                         "total_changed": pass.totalChanged.wire])
            }),
        ])
    }
}
