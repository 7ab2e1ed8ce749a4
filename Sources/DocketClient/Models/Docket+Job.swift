import DocketCore
import Foundation

extension Docket {
    /// A job as the server shows it (SPEC 2.2). JSON-shaped fields keep their JSON form.
    public struct Job: Codable, Sendable, Hashable, Identifiable {
        public var id: UUID
        public var tenantId: String
        public var name: String
        public var description: String?
        public var status: JobStatus
        public var priority: Int
        public var schedule: JSONValue?
        public var nextRunAt: Date?
        public var assignedAgent: String?
        public var delegationChain: [JSONValue]
        public var executionContext: [String: JSONValue]
        public var checkpointData: JSONValue?
        public var lastCompletedStep: Int?
        public var estimatedCost: Money?
        public var actualCost: Money?
        public var timeoutSeconds: Int?
        public var planId: String?
        public var planStepIndex: Int?
        public var metadata: [String: JSONValue]
        public var callbackUrl: String?
        public var callback: JSONValue?
        public var retryPolicy: JSONValue?
        public var attempt: Int
        public var resultSummary: String?
        public var output: JSONValue?
        public var errorCode: String?
        public var errorMessage: String?
        public var cancelRequested: JSONValue?
        public var pauseRequested: Bool
        public var claimedBy: String?
        public var leaseExpiresAt: Date?
        public var ttftNs: Int64?
        public var totalDurationNs: Int64?
        public var createdBy: String
        public var createdAt: Date
        public var updatedAt: Date
        public var startedAt: Date?
        public var finishedAt: Date?
        public var version: Int64
        public var idempotencyKey: String?
        public var queue: String
        public var kind: String?
        public var args: [String: JSONValue]

        /// Whether a graceful cancel is waiting for the worker.
        public var isCancelRequested: Bool { cancelRequested != nil && cancelRequested != .null }

        /// The saved checkpoint's `state`, when the job has one (what a resumed handler continues from).
        public var checkpointState: JSONValue? { checkpointData?["state"] }

        /// The step index of that checkpoint.
        public var checkpointStep: Int? {
            if case .number(let step)? = checkpointData?["step_index"] { return Int(exactly: step) }
            return nil
        }
    }

    /// One run of a job (SPEC 2.3).
    public struct Run: Codable, Sendable, Hashable, Identifiable {
        public var id: UUID
        public var jobId: UUID
        public var runNumber: Int
        public var attempt: Int
        public var scheduledFor: Date?
        public var startedAt: Date?
        public var finishedAt: Date?
        public var status: String
        public var errorCode: String?
        public var errorMessage: String?
        public var actualCost: Money?
        public var resultSummary: String?
        public var instanceId: String?
        public var claimedBy: String?
    }

    /// `job.heartbeat`'s answer: what the worker must do next.
    public struct Heartbeat: Codable, Sendable, Hashable {
        public var status: JobStatus
        public var leaseExpiresAt: Date?
        public var cancelRequested: JSONValue?
        public var pauseRequested: Bool

        public var isCancelRequested: Bool { cancelRequested != nil && cancelRequested != .null }
    }

    /// A task linked to a job (`job.linked_tasks`).
    public struct LinkedTask: Codable, Sendable, Hashable {
        public var taskId: UUID
        public var relationshipType: String
        public var metadata: JSONValue
        public var title: String
        public var status: TaskStatus
        public var linkedAt: Date
    }

    /// A tenant's spending limit, and (from `budget.get`) what it has spent.
    public struct Budget: Codable, Sendable, Hashable {
        public var tenantId: String
        public var limit: Money
        public var period: String
        public var spent: Money?
    }

    /// A page of a listing, with the cursors to the next and the previous page.
    public struct Page<Item: Codable & Sendable & Hashable>: Codable, Sendable, Hashable {
        public var items: [Item]
        public var nextCursor: String?
        public var prevCursor: String?
    }
}
