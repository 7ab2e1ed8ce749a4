import Foundation

// The typed arguments of the job operations (docs/protocol.md, "Jobs"). Each reads its fields and nothing else.

/// `job.create`.
public struct JobCreate: OperationArguments {
    public var tenantId: String?
    public var fields: JobInput
    public var name: String
    public var schedule: Schedule?
    public var idempotencyKey: String?
    /// Fixed at create: the queue (default `default`), the kind and the args.
    public var queue: String
    public var kind: String?
    public var args: [String: JSONValue]

    public init(reading reader: inout ArgumentReader) throws(DocketError) {
        tenantId = try reader.tenant()
        fields = try JobInput(reading: &reader)
        name = try reader.required("name", fields.name)
        if let value = reader.raw("schedule"), value != .null { schedule = try Schedule(json: value) }
        idempotencyKey = try reader.optionalString("idempotency_key", maxLength: 200)
        queue = try reader.optionalQueue("queue") ?? Job.defaultQueue
        kind = try reader.optionalKind("kind")
        args = try reader.optionalObject("args", maxBytes: FieldLimits.argsBytes) ?? [:]
    }
}

/// `job.create_many`: 1–1000 creates in one transaction, all or nothing. A job's own `tenant_id` wins over the batch's.
public struct JobCreateMany: OperationArguments {
    public static let maxJobs = 1000

    public var tenantId: String?
    public var jobs: [JobCreate]

    public init(reading reader: inout ArgumentReader) throws(DocketError) {
        tenantId = try reader.tenant()
        guard case .array(let items)? = reader.raw("jobs") else {
            throw .validation(field: "jobs", "is required: a list of job.create arguments")
        }
        guard (1...Self.maxJobs).contains(items.count) else {
            throw .validation(field: "jobs", "takes 1–\(Self.maxJobs) jobs, got \(items.count)")
        }
        var jobs: [JobCreate] = []
        var keys: Set<String> = []
        for (index, item) in items.enumerated() {
            do throws(DocketError) {
                guard case .object(let fields) = item else { throw .validation(field: "jobs", "each job is an object") }
                var job = try JobCreate(Arguments(fields))
                if job.tenantId == nil { job.tenantId = tenantId }
                if let key = job.idempotencyKey {
                    guard keys.insert("\(job.tenantId ?? "")\u{1F}\(key)").inserted else {
                        throw .validation(field: "idempotency_key", "appears twice in the batch")
                    }
                }
                jobs.append(job)
            } catch {
                throw error.at(index: index)
            }
        }
        self.jobs = jobs
    }
}

extension DocketError {
    /// The same error, about the batch element at `index` (`details.index`, and the message says which).
    public func at(index: Int) -> DocketError {
        var error = self
        error.message = "jobs[\(index)]: " + message
        error.details["index"] = .number(Double(index))
        return error
    }
}

/// `job.schedule`.
public struct JobScheduling: OperationArguments {
    public var job: JobVersioned
    public var schedule: Schedule

    public init(reading reader: inout ArgumentReader) throws(DocketError) {
        job = try JobVersioned(reading: &reader)
        guard let value = reader.raw("schedule"), value != .null else { throw .schedule(field: "schedule", "is required") }
        schedule = try Schedule(json: value)
    }
}

/// `job.complete`: `success: false` acts as `job.fail`.
public struct JobCompletion: OperationArguments {
    public var job: JobVersioned
    public var outcome: JobOutcome

    public init(reading reader: inout ArgumentReader) throws(DocketError) {
        job = try JobVersioned(reading: &reader)
        outcome = JobOutcome(
            success: try reader.optionalBool("success") ?? true, resultSummary: try reader.optionalString("result_summary"),
            actualCost: try reader.optionalMoney("actual_cost"),
            output: try reader.optionalJSON("output", maxBytes: FieldLimits.outputBytes),
            errorCode: try reader.optionalString("error_code", maxLength: 200), errorMessage: try reader.optionalString("error_message"))
    }
}

/// `job.fail`.
public struct JobFailure: OperationArguments {
    public var job: JobVersioned
    public var errorCode: String?
    public var errorMessage: String?
    public var actualCost: Money?
    public var output: JSONValue?

    public init(reading reader: inout ArgumentReader) throws(DocketError) {
        job = try JobVersioned(reading: &reader)
        errorCode = try reader.optionalString("error_code", maxLength: 200)
        errorMessage = try reader.optionalString("error_message")
        actualCost = try reader.optionalMoney("actual_cost")
        output = try reader.optionalJSON("output", maxBytes: FieldLimits.outputBytes)
    }
}

/// `job.cancel`.
public struct JobCancellation: OperationArguments {
    public var job: JobVersioned
    public var reason: String?
    public var mode: StopMode

    public init(reading reader: inout ArgumentReader) throws(DocketError) {
        job = try JobVersioned(reading: &reader)
        reason = try reader.optionalString("reason")
        mode = try reader.optionalEnum("mode", StopMode.self) ?? .graceful
    }
}

/// `job.pause`.
public struct JobPausing: OperationArguments {
    public var job: JobVersioned
    public var mode: StopMode

    public init(reading reader: inout ArgumentReader) throws(DocketError) {
        job = try JobVersioned(reading: &reader)
        mode = try reader.optionalEnum("mode", StopMode.self) ?? .graceful
    }
}

/// `job.checkpoint`.
public struct JobCheckpointing: OperationArguments {
    public var job: JobRef
    public var checkpoint: Checkpoint

    public init(reading reader: inout ArgumentReader) throws(DocketError) {
        job = try JobRef(reading: &reader)
        let step = try reader.required("step_index", try reader.optionalInt("step_index", range: 0...1_000_000))
        checkpoint = Checkpoint(stepIndex: step, stepName: try reader.optionalString("step_name", maxLength: 500),
                                state: try reader.optionalJSON("state", maxBytes: FieldLimits.contextBytes),
                                executionContext: try reader.optionalObject("execution_context", maxBytes: FieldLimits.contextBytes))
    }
}

/// `job.assign_agent`: `agent` (or `assigned_agent`), `reason`.
public struct JobAssignment: OperationArguments {
    public var job: JobVersioned
    public var agent: String
    public var reason: String?

    public init(reading reader: inout ArgumentReader) throws(DocketError) {
        job = try JobVersioned(reading: &reader)
        let agent = try reader.optionalString("agent", maxLength: 500)
        let assigned = try reader.optionalString("assigned_agent", maxLength: 500)
        self.agent = try reader.required("agent", agent ?? assigned)
        reason = try reader.optionalString("reason")
    }
}

/// `job.link_task`.
public struct JobLinking: OperationArguments {
    public var job: JobRef
    public var taskId: UUID
    public var relationship: TaskRelationship
    public var metadata: [String: JSONValue]

    public init(reading reader: inout ArgumentReader) throws(DocketError) {
        job = try JobRef(reading: &reader)
        taskId = try reader.uuid("task_id")
        relationship = try reader.optionalEnum("relationship_type", TaskRelationship.self) ?? .step
        metadata = try reader.optionalObject("metadata") ?? [:]
    }
}

/// `job.unlink_task`.
public struct JobUnlinking: OperationArguments {
    public var job: JobRef
    public var taskId: UUID

    public init(reading reader: inout ArgumentReader) throws(DocketError) {
        job = try JobRef(reading: &reader)
        taskId = try reader.uuid("task_id")
    }
}

/// `job.list`: filters and paging.
public struct JobListing: OperationArguments {
    public var tenantId: String?
    public var filter: JobFilter
    public var page: PageRequest

    public init(reading reader: inout ArgumentReader) throws(DocketError) {
        tenantId = try reader.tenant()
        filter = try JobFilter(reading: &reader)
        page = try PageRequest(reading: &reader)
    }
}

/// A job list without filters (`job.pending`, `job.running`), oldest first unless told otherwise.
public struct JobPaging: OperationArguments {
    public var tenantId: String?
    public var page: PageRequest

    public init(reading reader: inout ArgumentReader) throws(DocketError) {
        tenantId = try reader.tenant()
        page = try PageRequest(reading: &reader)
    }
}

/// `job.claim`.
public struct JobClaiming: OperationArguments {
    public var tenantId: String?
    public var agent: String?
    public var limit: Int
    public var leaseSeconds: Int?
    /// Only jobs of these queues (nil: every queue) and of these kinds (nil: any).
    public var queues: [String]?
    public var kinds: [String]?

    public init(reading reader: inout ArgumentReader) throws(DocketError) {
        tenantId = try reader.tenant()
        agent = try reader.optionalString("agent", maxLength: 500)
        queues = try reader.optionalQueues("queues")
        kinds = try reader.optionalKinds("kinds")
        limit = try reader.optionalInt("limit", range: 1...PageRequest.maxLimit) ?? 1
        leaseSeconds = try reader.optionalInt("lease_seconds", range: 1...86_400)
    }
}

/// `job.heartbeat`.
public struct JobHeartbeat: OperationArguments {
    public var job: JobRef
    public var executionContext: [String: JSONValue]?
    public var leaseSeconds: Int?

    public init(reading reader: inout ArgumentReader) throws(DocketError) {
        job = try JobRef(reading: &reader)
        executionContext = try reader.optionalObject("execution_context", maxBytes: FieldLimits.contextBytes)
        leaseSeconds = try reader.optionalInt("lease_seconds", range: 1...86_400)
    }
}

/// `job.record_metrics`.
public struct JobMetrics: OperationArguments {
    public var job: JobRef
    public var ttftNs: Int64?
    public var totalDurationNs: Int64?

    public init(reading reader: inout ArgumentReader) throws(DocketError) {
        job = try JobRef(reading: &reader)
        ttftNs = try reader.optionalInt("ttft_ns", range: 0...Int.max).map(Int64.init)
        totalDurationNs = try reader.optionalInt("total_duration_ns", range: 0...Int.max).map(Int64.init)
    }
}

/// `budget.set`.
public struct BudgetSetting: OperationArguments {
    public var tenantId: String?
    public var limit: Money
    public var period: Budget.Period

    public init(reading reader: inout ArgumentReader) throws(DocketError) {
        tenantId = try reader.tenant()
        limit = try reader.required("limit", try reader.optionalMoney("limit"))
        period = try reader.required("period", try reader.optionalEnum("period", Budget.Period.self), "is required: day, month or total")
    }
}

/// `queue.get`, `queue.pause`, `queue.resume`.
public struct QueueRef: OperationArguments {
    public var tenantId: String?
    public var name: String

    public init(reading reader: inout ArgumentReader) throws(DocketError) {
        tenantId = try reader.tenant()
        guard let name = try reader.optionalQueue("queue") else { throw .validation(field: "queue", "is required") }
        self.name = name
    }
}

/// `queue.update`: each given setting; null clears a limit.
public struct QueueUpdate: OperationArguments {
    public var queue: QueueRef
    public var concurrency: Int??
    public var rateLimit: Queue.RateLimit??
    public var weight: Int?

    public init(reading reader: inout ArgumentReader) throws(DocketError) {
        queue = try QueueRef(reading: &reader)
        if reader.has("concurrency") { concurrency = .some(try reader.optionalInt("concurrency", range: 1...1_000_000)) }
        if let raw = reader.raw("rate_limit") {
            switch raw {
            case .null: rateLimit = .some(nil)
            case .object(let fields):
                var limit = ArgumentReader(Arguments(fields))
                do throws(DocketError) {
                    guard let count = try limit.optionalInt("count", range: 1...1_000_000),
                          let per = try limit.optionalInt("per_seconds", range: 1...86_400) else {
                        throw .validation(field: "rate_limit", "needs count and per_seconds")
                    }
                    try limit.finish()
                    rateLimit = .some(Queue.RateLimit(count: count, perSeconds: per))
                } catch {
                    throw .validation(field: "rate_limit", error.message)
                }
            default: throw .validation(field: "rate_limit", "must be {count, per_seconds} or null")
            }
        }
        weight = try reader.optionalInt("weight", range: 1...1_000)
    }
}
