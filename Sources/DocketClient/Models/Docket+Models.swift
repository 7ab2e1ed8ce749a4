import DocketCore
import Foundation

extension Docket {
    /// A task (SPEC 2.5); named so to leave Swift's `Task` alone.
    public struct WorkTask: Codable, Sendable, Hashable, Identifiable {
        public var id: UUID
        public var tenantId: String
        public var title: String
        public var description: String?
        public var status: TaskStatus
        public var priority: Int
        public var ownerId: String
        public var assigneeId: String?
        public var assigneeType: String?
        public var assignedAgent: String?
        public var delegationChain: [JSONValue]
        public var executionContext: [String: JSONValue]
        public var estimatedCost: Money?
        public var actualCost: Money?
        public var timeoutSeconds: Int?
        public var parentId: UUID?
        public var jobId: UUID?
        public var completionNotes: String?
        public var cancelReason: String?
        public var metadata: [String: JSONValue]
        public var createdAt: Date
        public var updatedAt: Date
        public var startedAt: Date?
        public var completedAt: Date?
        public var version: Int64
    }

    /// One edge of a task's dependency graph (`task.dependencies`).
    public struct Dependency: Codable, Sendable, Hashable {
        public var taskId: UUID
        public var dependsOnId: UUID
        public var dependencyType: String
        public var status: TaskStatus
    }

    /// A domain event (SPEC 2.7), as `events.list` returns it and a subscription delivers it.
    public struct Event: Codable, Sendable, Hashable, Identifiable {
        public var seq: Int64
        public var id: UUID
        public var topic: String
        public var tenantId: String?
        public var entityType: String
        public var entityId: String?
        public var actorId: String?
        public var occurredAt: Date
        public var data: JSONValue
    }

    /// A queue's settings and counts.
    public struct Queue: Codable, Sendable, Hashable {
        public struct RateLimit: Codable, Sendable, Hashable {
            public var count: Int
            public var perSeconds: Int

            public init(count: Int, perSeconds: Int) {
                self.count = count
                self.perSeconds = perSeconds
            }
        }

        public struct Counts: Codable, Sendable, Hashable {
            public var available: Int
            public var scheduled: Int
            public var running: Int
            public var failed: Int
            public var oldestAvailableSince: Date?
        }

        public var tenantId: String
        public var queue: String
        public var concurrency: Int?
        public var rateLimit: RateLimit?
        public var paused: Bool
        public var weight: Int
        public var updatedAt: Date?
        public var counts: Counts
    }

    /// The cluster as `cluster.status` shows it.
    public struct ClusterStatus: Codable, Sendable, Hashable {
        public struct Instance: Codable, Sendable, Hashable {
            public var id: String
            public var address: String?
            public var httpAddress: String?
            public var version: String
            public var hostname: String?
            public var pid: Int?
            public var status: String
            public var startedAt: Date?
            public var heartbeatAt: Date?
        }

        public struct Leader: Codable, Sendable, Hashable {
            public var instanceId: String?
            public var epoch: Int64?
            public var since: Date?
            public var heartbeatAt: Date?
        }

        public struct ThisInstance: Codable, Sendable, Hashable {
            public var id: String
            public var role: String
            public var epoch: Int64?
        }

        public struct Sweep: Codable, Sendable, Hashable {
            public var instanceId: String
            public var epoch: Int64?
            public var lastRunAt: Date?
            public var changed: Int?
            public var durationMs: Double
            public var totalChanged: Int?
        }

        public var instances: [Instance]
        public var leader: Leader?
        public var thisInstance: ThisInstance?
        public var sweeps: [String: Sweep]
    }

    /// Who a key acts as (`auth`).
    public struct Actor: Codable, Sendable, Hashable {
        public var id: String
        public var type: String
        public var tenantId: String
        public var scopes: [String]
    }

    /// `hello`'s answer.
    public struct ServerInfo: Codable, Sendable, Hashable {
        public var server: String
        public var version: String
        public var `protocol`: Int
        public var instanceId: String
    }
}
