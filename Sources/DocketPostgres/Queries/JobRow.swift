import DocketCore
import Foundation
import PostgresNIO

/// Reading a `docket.jobs` row into a `Job`: `columns` and `decode` list the same columns in the same order.
enum JobRow {
    /// The select list every job query uses.
    static let columns = """
        id, tenant_id, name, created_by, created_at, description, status, priority, schedule, next_run_at, current_slot,
        run_count, assigned_agent, delegation_chain, execution_context, checkpoint_data, last_completed_step,
        estimated_cost, actual_cost, timeout_seconds, deadline_at, plan_id, plan_step_index, metadata, callback_url,
        callback, callback_due_at, retry_policy, attempt, retry_at, result_summary, output, error_code, error_message,
        cancel_requested, cancel_deadline_at, pause_requested, claimed_by, lease_expires_at, ttft_ns,
        total_duration_ns, idempotency_key, updated_at, started_at, finished_at, version, queue, kind, args
        """

    /// Whether the job has task links, its queue a settings row and its tenant a budget, selected after `columns`
    /// by the statements that lock a job to change it (`JobGates`).
    static let gateColumns = """
        EXISTS (SELECT 1 FROM docket.job_tasks l WHERE l.job_id = jobs.id),
        EXISTS (SELECT 1 FROM docket.queues q WHERE q.tenant_id = jobs.tenant_id AND q.name = jobs.queue),
        EXISTS (SELECT 1 FROM docket.budgets b WHERE b.tenant_id = jobs.tenant_id)
        """

    static func decode(_ row: PostgresRow) throws -> Job {
        var r = RowReader(row)
        return try decode(&r)
    }

    /// A row of `columns` followed by `gateColumns`.
    static func decodeWithGates(_ row: PostgresRow) throws -> JobWithGates {
        var r = RowReader(row)
        let job = try decode(&r)
        return JobWithGates(job: job, gates: JobGates(links: try r.next(), queueSettings: try r.next(), budget: try r.next()))
    }

    private static func decode(_ r: inout RowReader) throws -> Job {
        var job = Job(id: try r.next(), tenantId: try r.next(), name: try r.next(), createdBy: try r.next(), now: try r.next())
        job.description = try r.next()
        job.status = try r.value(JobStatus.self)
        job.priority = try r.smallint()
        job.schedule = try r.next()
        job.nextRunAt = try r.next()
        job.currentSlot = try r.next()
        job.runCount = try r.integer()
        job.assignedAgent = try r.next()
        job.delegationChain = try r.list()
        job.executionContext = try r.object()
        job.checkpointData = try r.next()
        job.lastCompletedStep = try r.optionalInteger()
        job.estimatedCost = try r.money()
        job.actualCost = try r.money()
        job.timeoutSeconds = try r.optionalInteger()
        job.deadlineAt = try r.next()
        job.planId = try r.next()
        job.planStepIndex = try r.optionalInteger()
        job.metadata = try r.object()
        job.callbackUrl = try r.next()
        job.callback = try r.next()
        job.callbackDueAt = try r.next()
        job.retryPolicy = try r.next()
        job.attempt = try r.integer()
        job.retryAt = try r.next()
        job.resultSummary = try r.next()
        job.output = try r.next()
        job.errorCode = try r.next()
        job.errorMessage = try r.next()
        job.cancelRequested = try r.next()
        job.cancelDeadlineAt = try r.next()
        job.pauseRequested = try r.next()
        job.claimedBy = try r.next()
        job.leaseExpiresAt = try r.next()
        job.ttftNs = try r.next()
        job.totalDurationNs = try r.next()
        job.idempotencyKey = try r.next()
        job.updatedAt = try r.next()
        job.startedAt = try r.next()
        job.finishedAt = try r.next()
        job.version = try r.next()
        job.queue = try r.next()
        job.kind = try r.next()
        job.args = try r.object()
        return job
    }
}

/// Which of a job's gates have anything to check, read in the statement that locks the job: whether it has task links
/// (prerequisites to start, primaries to succeed), whether its queue has a settings row (limits, pause) and whether its
/// tenant has a budget. A gate with nothing to check costs no query; one that has is checked as before, under its
/// own lock. The answer is as fresh as the row lock, which is as fresh as the queries it replaces.
public struct JobGates: Sendable, Hashable {
    public var links: Bool
    public var queueSettings: Bool
    public var budget: Bool

    public init(links: Bool, queueSettings: Bool, budget: Bool) {
        self.links = links
        self.queueSettings = queueSettings
        self.budget = budget
    }

    /// Nothing known: every gate is checked.
    public static let unknown = JobGates(links: true, queueSettings: true, budget: true)
}

/// A job read by id, prepared once per connection: `job.get`'s read and the read before every change. The select list
/// is long, and parsing and planning it again for each request cost PostgreSQL about as much as running it; with the
/// statement prepared, a request sends only its id. `Form` says which read: with or without the row lock, with or
/// without the gate columns.
struct JobByID<Form: JobReadForm>: PostgresPreparedStatement {
    typealias Row = Form.Row
    static var sql: String { Form.sql }
    let id: UUID

    func makeBindings() throws -> PostgresBindings {
        var bindings = PostgresBindings(capacity: 1)
        bindings.append(id)
        return bindings
    }

    func decodeRow(_ row: PostgresRow) throws -> Row { try Form.decode(row) }
}

protocol JobReadForm {
    associatedtype Row: Sendable
    static var sql: String { get }
    static func decode(_ row: PostgresRow) throws -> Row
}

/// The four reads of `JobByID`.
enum JobRead {
    enum Plain: JobReadForm {
        static let sql = "SELECT \(JobRow.columns) FROM docket.jobs WHERE id = $1"
        static func decode(_ row: PostgresRow) throws -> Job { try JobRow.decode(row) }
    }

    enum Locked: JobReadForm {
        static let sql = "SELECT \(JobRow.columns) FROM docket.jobs WHERE id = $1 FOR UPDATE"
        static func decode(_ row: PostgresRow) throws -> Job { try JobRow.decode(row) }
    }

    enum WithGates: JobReadForm {
        static let sql = "SELECT \(JobRow.columns), \(JobRow.gateColumns) FROM docket.jobs WHERE id = $1"
        static func decode(_ row: PostgresRow) throws -> JobWithGates { try JobRow.decodeWithGates(row) }
    }

    enum LockedWithGates: JobReadForm {
        static let sql = "SELECT \(JobRow.columns), \(JobRow.gateColumns) FROM docket.jobs WHERE id = $1 FOR UPDATE"
        static func decode(_ row: PostgresRow) throws -> JobWithGates { try JobRow.decodeWithGates(row) }
    }
}

/// A job with which of its gates have anything to check.
struct JobWithGates: Sendable {
    var job: Job
    var gates: JobGates
}
