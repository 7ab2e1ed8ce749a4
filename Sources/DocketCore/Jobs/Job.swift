import Foundation

/// A job (SPEC 2.2): one unit of scheduled or on-demand work, with its lifecycle, costs, checkpoints and links.
///
/// JSON-shaped fields (`schedule`, `checkpoint_data`, `retry_policy`, …) keep their wire form; typed views parse them
/// where logic needs them. Columns that only serve sweeps (`deadline_at`, `retry_at`, …) are kept in step by the
/// service and are not part of the wire form.
public struct Job: Sendable, Hashable {
    public var id: UUID
    public var tenantId: String
    public var name: String
    public var description: String?
    public var status: JobStatus
    public var priority: Int
    public var schedule: JSONValue?
    public var nextRunAt: Date?
    public var currentSlot: Date?
    public var runCount: Int
    public var assignedAgent: String?
    public var delegationChain: [JSONValue]
    public var executionContext: [String: JSONValue]
    public var checkpointData: JSONValue?
    public var lastCompletedStep: Int?
    public var estimatedCost: Money?
    public var actualCost: Money?
    public var timeoutSeconds: Int?
    public var deadlineAt: Date?
    public var planId: String?
    public var planStepIndex: Int?
    public var metadata: [String: JSONValue]
    public var callbackUrl: String?
    public var callback: JSONValue?
    public var callbackDueAt: Date?
    public var retryPolicy: JSONValue?
    public var attempt: Int
    public var retryAt: Date?
    public var resultSummary: String?
    public var output: JSONValue?
    public var errorCode: String?
    public var errorMessage: String?
    public var cancelRequested: JSONValue?
    public var cancelDeadlineAt: Date?
    public var pauseRequested: Bool
    public var claimedBy: String?
    public var leaseExpiresAt: Date?
    public var ttftNs: Int64?
    public var totalDurationNs: Int64?
    public var idempotencyKey: String?
    public var createdBy: String
    public var createdAt: Date
    public var updatedAt: Date
    public var startedAt: Date?
    public var finishedAt: Date?
    public var version: Int64
    /// The queue it is claimed from (`default` unless given), its kind (the handler a worker runs it with) and its
    /// args (the handler's input), fixed at create.
    public var queue: String
    public var kind: String?
    public var args: [String: JSONValue]

    /// The queue of a job created without one.
    public static let defaultQueue = "default"

    /// A new draft job with defaults for everything not given.
    public init(id: UUID, tenantId: String, name: String, createdBy: String, now: Date) {
        self.id = id
        self.tenantId = tenantId
        self.name = name
        self.status = .draft
        self.priority = Priority.default.value
        self.runCount = 0
        self.delegationChain = []
        self.executionContext = [:]
        self.metadata = [:]
        self.attempt = 0
        self.pauseRequested = false
        self.createdBy = createdBy
        self.createdAt = now
        self.updatedAt = now
        self.version = 1
        self.queue = Self.defaultQueue
        self.args = [:]
    }

    /// The parsed retry policy, when the job has one.
    public var parsedRetryPolicy: RetryPolicy? {
        guard let retryPolicy else { return nil }
        return try? RetryPolicy(json: retryPolicy)
    }

    /// The graceful-cancel mode requested, when one is pending.
    public var isCancelRequested: Bool { cancelRequested != nil && cancelRequested != .null }
}
