import Foundation

/// Which events one reader may receive (SPEC 2.7, 3.3): topics matching its patterns, of the entity types its scopes
/// can read, of its tenant (a system actor: the tenant it names, or every tenant), cluster events with `cluster:read`.
///
/// Patterns are exact topics (`task.completed`), a family (`job.*`, `task.*`, `cluster.*`) or `*`. A pattern naming
/// only topics the reader may not read is `PERMISSION_DENIED`; `*` needs any one read scope.
public struct EventFilter: Sendable, Hashable {
    public static let maximumPatterns = 64

    public let patterns: [String]
    /// The tenant whose events pass; nil: every tenant (system actors only).
    public let tenant: String?
    public let readable: Set<EventDraft.EntityType>

    public init(patterns: [String], actor: Principal, tenant requested: String?) throws(DocketError) {
        guard !patterns.isEmpty else { throw .validation(field: "topics", "name at least one topic or pattern") }
        guard patterns.count <= Self.maximumPatterns else {
            throw .validation(field: "topics", "at most \(Self.maximumPatterns) patterns")
        }
        var readable: Set<EventDraft.EntityType> = []
        if actor.holds(.jobRead) { readable.formUnion([.job, .queue]) }
        if actor.holds(.taskRead) { readable.insert(.task) }
        if actor.holds(.clusterRead) { readable.insert(.cluster) }
        for pattern in patterns {
            let families = try Self.families(of: pattern)
            if families.isDisjoint(with: readable) {
                let needed = families.count == 1 ? "\(families.first!.rawValue):read" : "a read scope"
                throw DocketError(.permissionDenied, "actor \(actor.id) cannot read \(pattern) events (needs \(needed))",
                                  details: ["actor_id": .string(actor.id), "topic": .string(pattern)])
            }
        }
        if let requested, !requested.isEmpty {
            guard actor.reaches(tenant: requested) else { throw Authorizer.crossTenant(actor, requested) }
            tenant = requested
        } else {
            tenant = actor.isSystem ? nil : actor.tenantId
        }
        self.patterns = patterns
        self.readable = readable
    }

    /// Whether `event` passes.
    public func admits(_ event: Event) -> Bool {
        guard let type = EventDraft.EntityType(rawValue: event.entityType), readable.contains(type) else { return false }
        if let owner = event.tenantId {
            if let tenant, owner != tenant { return false }
        } else if type != .cluster {
            return false
        }
        return patterns.contains { Self.matches($0, event.topic) }
    }

    /// The patterns as SQL LIKE patterns (for `events.list`), `_` escaped.
    public var likePatterns: [String] {
        patterns.map { pattern in
            let escaped = pattern.replacingOccurrences(of: "_", with: "\\_")
            return escaped.hasSuffix("*") ? String(escaped.dropLast()) + "%" : escaped
        }
    }

    /// The entity types this reader may read, by name.
    public var entityTypes: [String] { readable.map(\.rawValue).sorted() }

    static func matches(_ pattern: String, _ topic: String) -> Bool {
        if pattern == "*" { return true }
        if pattern.hasSuffix(".*") { return topic.hasPrefix(pattern.dropLast()) }
        return pattern == topic
    }

    /// The entity types a pattern can match; a pattern that is not a topic, a family or `*` is `VALIDATION_ERROR`.
    static func families(of pattern: String) throws(DocketError) -> Set<EventDraft.EntityType> {
        if pattern == "*" { return [.job, .task, .cluster, .queue] }
        if pattern.hasSuffix(".*"), let family = EventDraft.EntityType(rawValue: String(pattern.dropLast(2))) {
            return [family]
        }
        if let topic = Topic(rawValue: pattern), let family = EventDraft.EntityType(rawValue: String(topic.rawValue.prefix { $0 != "." })) {
            return [family]
        }
        throw .validation(field: "topics", "\"\(pattern.prefix(80))\" is not a topic, a family like job.* or *")
    }
}
