import DocketCore
import Foundation
import PostgresNIO

/// What a one-statement claim came to.
public enum PlainClaim: Sendable {
    /// The jobs it took and started (none: nothing was due).
    case claimed([Job])
    /// A gate applies — a budget, a queue's settings row, work spread over several queues (fair share), or due jobs
    /// with task links where the claim could take more — and nothing was written: the claim takes the transactional
    /// path.
    case gated
}

/// The parameters of a one-statement claim.
public struct PlainClaimRequest: Sendable {
    public var tenant: String
    /// The one queue named, or nil: the tenant's only queue.
    public var queue: String?
    public var kinds: [String]?
    public var limit: Int
    public var now: Date
    public var worker: String
    public var leaseUntil: Date
    public var instance: String?
    public var actor: String
    /// The events each started job gets, in order, as `EventDraft`s drafted for any one of them: their topics and data
    /// are taken, the tenant and entity filled in per job.
    public var events: [EventDraft]

    public init(tenant: String, queue: String?, kinds: [String]?, limit: Int, now: Date, worker: String, leaseUntil: Date,
                instance: String?, actor: String, events: [EventDraft]) {
        self.tenant = tenant
        self.queue = queue
        self.kinds = kinds
        self.limit = limit
        self.now = now
        self.worker = worker
        self.leaseUntil = leaseUntil
        self.instance = instance
        self.actor = actor
        self.events = events
    }
}

extension JobQueries {
    /// `job.claim` in one statement, for the claims no gate applies to: locks up to `limit` due jobs of one queue
    /// (`FOR UPDATE SKIP LOCKED`) as `lockDue` orders them — running jobs the scheduler started and no worker holds
    /// first, then scheduled ones; highest priority first, then earliest due — and takes them: a scheduled one is
    /// started (`Start`), a held one gets the claimer on its row and run; both get the lease. All in its own implicit
    /// transaction, so no lock is held across a round trip.
    ///
    /// A claim the statement cannot decide alone (see `PlainClaim.gated`) writes nothing and says so.
    public func claimPlain(_ request: PlainClaimRequest) async throws -> PlainClaim {
        Database.eventMark?.set()
        var jobs: [Job] = []
        for try await row in try await connection.execute(PlainClaimStatement(request: request), logger: logger) {
            let cells = row.makeRandomAccess()
            guard try cells[cells.count - 1].decode(Bool.self) else { return .gated }
            guard try cells[0].decode(UUID?.self) != nil else { continue }
            jobs.append(try JobRow.decode(row))
        }
        return .claimed(jobs)
    }

    /// The recurrence sweep's batch for the due jobs nothing gates — one-time (or unscheduled) jobs without a kind (one
    /// with a kind waits for a claim: `SweepQueries.sweepStarts`) whose queue has no settings row, whose tenant has no
    /// budget and that have no task links: up to `limit` of them, earliest due first, are started (`Start`) for no
    /// worker, with their runs and events stamped with the leader's `epoch`, in one statement. Returns how many. The
    /// rest (recurring jobs, whose slot the misfire policy picks, and gated ones) are the sweep's to start one by one.
    ///
    /// The gate tests end in `OFFSET 0`, which keeps each a per-row test (a sub-plan) instead of an anti-join: joined,
    /// the planner read every due row and sorted them (119 ms at 22,000 due, `EXPLAIN ANALYZE`); as tests, the due index
    /// is read in order and the scan stops after `limit` rows (1.8 ms).
    public func startDuePlain(now: Date, limit: Int, instance: String?, actor: String, epoch: Int64?,
                              events: [EventDraft]) async throws -> Int {
        Database.eventMark?.set()
        let rows = try await connection.query("""
            WITH params AS (
                SELECT \(now)::timestamptz AS now, NULL::text AS worker, NULL::timestamptz AS lease_until,
                    \(instance)::text AS instance, \(actor)::text AS actor, \(epoch)::bigint AS epoch,
                    \(Start.templates(events))::jsonb AS templates
            ), picked AS (
                -- `sweepStarts` is `jobs_due_idx`'s predicate, stated so the scan reads that index in order.
                SELECT j.id AS picked_id FROM docket.jobs j
                WHERE \(unescaped: SweepQueries.sweepStarts) AND j.next_run_at <= \(now)
                  AND j.kind IS NULL AND (j.schedule IS NULL OR j.schedule->>'kind' = 'once')
                  AND NOT EXISTS (SELECT 1 FROM docket.job_tasks l WHERE l.job_id = j.id OFFSET 0)
                  AND NOT EXISTS (SELECT 1 FROM docket.queues q WHERE q.tenant_id = j.tenant_id AND q.name = j.queue OFFSET 0)
                  AND NOT EXISTS (SELECT 1 FROM docket.budgets b WHERE b.tenant_id = j.tenant_id OFFSET 0)
                ORDER BY j.next_run_at LIMIT \(Int32(limit)) FOR UPDATE OF j SKIP LOCKED
            ), started AS (
                UPDATE docket.jobs SET \(unescaped: Start.assignments)
                FROM params p WHERE id = ANY(ARRAY(SELECT picked_id FROM picked))
                RETURNING \(unescaped: JobRow.columns)
            ), \(unescaped: Start.runsAndEvents)
            SELECT count(*)::int FROM started
            """, logger: logger).collect()
        return try rows.first?.decode(Int.self) ?? 0
    }

    /// What starting an occurrence writes, in SQL, for the statements that start many jobs at once (`claimPlain`,
    /// `startDuePlain`): the same start as `Job.beginRunning` and `JobService.beginOccurrence` (SPEC 4.2), from
    /// `scheduled` — the from-state the status table allows `job.start` to leave. The fragments read a `params` CTE
    /// (`now`, `worker`, `lease_until`, `instance`, `actor`, `epoch`, `templates`) and the started rows from `started`.
    enum Start {
        /// The rows are found by id alone (`id = ANY(ARRAY(…))`, the primary key): with a status condition beside it the
        /// planner prefers the claim's partial indexes and reads every due row. The `picked` CTE has locked each row in
        /// the from-state (`FOR UPDATE` re-checks its conditions on the newest version), so nobody moved it since.
        static let assignments = """
            status = 'running', run_count = run_count + 1, attempt = 1, current_slot = coalesce(next_run_at, p.now),
            next_run_at = NULL, started_at = p.now, finished_at = NULL,
            deadline_at = p.now + make_interval(secs => timeout_seconds), retry_at = NULL, error_code = NULL,
            error_message = NULL, cancel_requested = NULL, cancel_deadline_at = NULL, pause_requested = false,
            claimed_by = p.worker, lease_expires_at = p.lease_until, version = version + 1, updated_at = p.now
            """

        /// The `opened` (runs) and `told` (events, in seq order job by job) CTEs.
        static let runsAndEvents = """
            opened AS (
                INSERT INTO docket.job_runs (id, job_id, tenant_id, run_number, attempt, scheduled_for, started_at, status,
                    instance_id, claimed_by, leader_epoch)
                SELECT gen_random_uuid(), c.id, c.tenant_id, c.run_count, 1, c.current_slot, p.now, 'running',
                    p.instance, p.worker, p.epoch
                FROM started c, params p
            ), told AS (
                INSERT INTO docket.events (\(EventQueries.insertedColumns))
                SELECT \(EventQueries.selectedColumns), p.epoch FROM (
                    SELECT jsonb_build_object('id', gen_random_uuid(), 'topic', t.e->>'topic', 'tenant_id', c.tenant_id,
                        'entity_type', 'job', 'entity_id', c.id::text, 'actor_id', p.actor, 'data', t.e->'data') AS e,
                        c.priority, c.current_slot, c.id, t.n
                    FROM started c, params p CROSS JOIN jsonb_array_elements(p.templates) WITH ORDINALITY AS t(e, n)
                ) AS drafted, params p
                ORDER BY priority DESC, current_slot, id, n
            )
            """

        /// The events each started job gets, drafted for any one of them: their topics and data (the tenant and
        /// entity are filled in per job).
        static func templates(_ events: [EventDraft]) -> JSONValue {
            .array(events.map { .object(["topic": .string($0.topic.rawValue), "data": .object($0.data)]) })
        }
    }
}

/// `JobQueries.claimPlain`'s statement, prepared once per connection: a claim is the hottest statement there is, and
/// planning this one costs more than running it (about 7 ms against 4–7 ms, measured with `EXPLAIN ANALYZE`).
/// Whether the tenant has a second queue is an index probe (`ORDER BY … LIMIT 1`): written as `NOT EXISTS`, with the
/// queue known only once the statement runs, the planner scanned the whole table (46 ms at 60,000 jobs).
struct PlainClaimStatement: PostgresPreparedStatement {
    typealias Row = PostgresRow
    let request: PlainClaimRequest

    static let sql = """
            WITH params AS (
                SELECT $1::timestamptz AS now, $2::text AS worker,
                    $3::timestamptz AS lease_until, $4::text AS instance,
                    $5::text AS actor, NULL::bigint AS epoch, $6::jsonb AS templates
            ), target AS (
                SELECT coalesce($7::text,
                    (SELECT queue FROM docket.jobs WHERE tenant_id = $8 ORDER BY queue LIMIT 1)) AS queue
            ), plain AS (
                SELECT NOT EXISTS (SELECT 1 FROM docket.budgets b WHERE b.tenant_id = $8::text)
                   AND NOT EXISTS (SELECT 1 FROM docket.queues q WHERE q.tenant_id = $8 AND q.name = (SELECT queue FROM target))
                   AND ($7::text IS NOT NULL OR (
                        SELECT j.queue FROM docket.jobs j WHERE j.tenant_id = $8 AND j.queue > (SELECT queue FROM target)
                        ORDER BY j.tenant_id, j.queue LIMIT 1) IS NULL) AS ok
            ), unheld AS (
                SELECT j.id, 0 AS waiting, j.priority, j.started_at AS due FROM docket.jobs j
                WHERE j.tenant_id = $8 AND j.status = 'running' AND j.claimed_by IS NULL
                  AND j.queue = (SELECT queue FROM target)
                  AND ($9::text[] IS NULL OR j.kind = ANY($9::text[]))
                ORDER BY j.priority DESC, j.started_at LIMIT $10 FOR UPDATE OF j SKIP LOCKED
            ), scheduled AS (
                SELECT j.id, 1 AS waiting, j.priority, j.next_run_at AS due FROM docket.jobs j
                WHERE j.tenant_id = $8 AND j.status = 'scheduled' AND j.next_run_at <= $1
                  AND j.queue = (SELECT queue FROM target)
                  AND ($9::text[] IS NULL OR j.kind = ANY($9::text[]))
                  AND NOT EXISTS (SELECT 1 FROM docket.job_tasks l WHERE l.job_id = j.id)
                ORDER BY j.priority DESC, j.next_run_at LIMIT $10 FOR UPDATE OF j SKIP LOCKED
            ), picked AS (
                SELECT id AS picked_id, waiting FROM (SELECT * FROM unheld UNION ALL SELECT * FROM scheduled) AS candidates
                ORDER BY waiting, priority DESC, due, id LIMIT $10
            ), verdict AS (
                SELECT (SELECT ok FROM plain) AND ((SELECT count(*) FROM picked) = $10::bigint OR NOT EXISTS (
                    SELECT 1 FROM docket.job_tasks l JOIN docket.jobs j ON j.id = l.job_id
                    WHERE j.tenant_id = $8 AND j.status = 'scheduled' AND j.next_run_at <= $1
                      AND j.queue = (SELECT queue FROM target)
                      AND ($9::text[] IS NULL OR j.kind = ANY($9::text[])))) AS fast
            ), started AS (
                UPDATE docket.jobs SET \(JobQueries.Start.assignments)
                FROM params p WHERE id = ANY(ARRAY(SELECT picked_id FROM picked WHERE waiting = 1)) AND (SELECT fast FROM verdict)
                RETURNING \(JobRow.columns)
            ), held AS (
                UPDATE docket.jobs SET claimed_by = p.worker, lease_expires_at = p.lease_until, version = version + 1,
                    updated_at = p.now
                FROM params p WHERE id = ANY(ARRAY(SELECT picked_id FROM picked WHERE waiting = 0)) AND (SELECT fast FROM verdict)
                RETURNING \(JobRow.columns)
            ), \(JobQueries.Start.runsAndEvents), marked AS (
                UPDATE docket.job_runs SET claimed_by = (SELECT worker FROM params)
                WHERE job_id = ANY(ARRAY(SELECT id FROM held)) AND status = 'running'
            ), taken AS (
                SELECT * FROM held UNION ALL SELECT * FROM started
            )
            SELECT c.*, v.fast FROM verdict v LEFT JOIN taken c ON true
        """

    func makeBindings() throws -> PostgresBindings {
        var bindings = PostgresBindings(capacity: 10)
        bindings.append(request.now)
        bindings.append(request.worker)
        bindings.append(request.leaseUntil)
        bindings.append(request.instance)
        bindings.append(request.actor)
        try bindings.append(JobQueries.Start.templates(request.events))
        bindings.append(request.queue)
        bindings.append(request.tenant)
        bindings.append(request.kinds)
        bindings.append(Int32(request.limit))
        return bindings
    }

    func decodeRow(_ row: PostgresRow) throws -> PostgresRow { row }
}
