-- 0005: what an operator needs to look inside (docs/operations.md): inspection views and callback signing secrets.

-- Per-tenant callback signing secrets (HMAC-SHA256 over the body, header Docket-Signature). Made on first delivery.
CREATE TABLE docket.callback_secrets (
    tenant_id   text        PRIMARY KEY CHECK (tenant_id <> ''),
    secret      bytea       NOT NULL CHECK (length(secret) >= 32),
    created_at  timestamptz NOT NULL DEFAULT now()
);

-- Jobs by tenant and status: how many, the oldest, the next due.
CREATE VIEW docket.job_overview AS
SELECT tenant_id, status, count(*) AS jobs,
       min(created_at) AS oldest_created_at,
       max(updated_at) AS last_updated_at,
       min(next_run_at) FILTER (WHERE status = 'scheduled') AS next_run_at,
       count(*) FILTER (WHERE status = 'running' AND claimed_by IS NOT NULL) AS claimed,
       sum(actual_cost) AS actual_cost
FROM docket.jobs
GROUP BY tenant_id, status;

-- Jobs that should have moved and have not: each row names why. Empty on a healthy cluster (a row may appear for
-- a second or two between a deadline and the leader's next sweep pass).
CREATE VIEW docket.stuck_jobs AS
SELECT tenant_id, id, name, status, 'past its timeout' AS reason, deadline_at AS since, claimed_by, updated_at
FROM docket.jobs WHERE status = 'running' AND deadline_at < now()
UNION ALL
SELECT tenant_id, id, name, status, 'worker lease expired', lease_expires_at, claimed_by, updated_at
FROM docket.jobs WHERE status = 'running' AND lease_expires_at < now()
UNION ALL
SELECT tenant_id, id, name, status, 'graceful cancel past its grace', cancel_deadline_at, claimed_by, updated_at
FROM docket.jobs WHERE status = 'running' AND cancel_deadline_at < now()
UNION ALL
SELECT tenant_id, id, name, status, 'due but not started', next_run_at, claimed_by, updated_at
FROM docket.jobs WHERE status = 'scheduled' AND next_run_at < now() - interval '30 seconds'
UNION ALL
SELECT tenant_id, id, name, status, 'retry overdue', retry_at, claimed_by, updated_at
FROM docket.jobs WHERE status = 'failed' AND retry_at < now() - interval '30 seconds'
UNION ALL
SELECT tenant_id, id, name, status, 'callback overdue', callback_due_at, claimed_by, updated_at
FROM docket.jobs WHERE callback_due_at < now() - interval '5 minutes'
UNION ALL
SELECT tenant_id, id, name, status, 'running unclaimed for over 10 minutes', started_at, claimed_by, updated_at
FROM docket.jobs WHERE status = 'running' AND claimed_by IS NULL AND started_at < now() - interval '10 minutes';

-- The leader as recorded, and whether its lock is really held right now (by which backend).
CREATE VIEW docket.leadership_status AS
SELECT l.name, l.instance_id, l.epoch, l.elected_at, l.heartbeat_at,
       now() - l.heartbeat_at AS heartbeat_age,
       l.backend_pid,
       EXISTS (SELECT 1 FROM pg_locks k
               WHERE k.locktype = 'advisory' AND k.granted AND k.objsubid = 2
                 AND k.classid::bigint = 1685023604 AND k.objid::bigint = 2 AND k.pid = l.backend_pid
                 AND k.database = (SELECT oid FROM pg_database WHERE datname = current_database())) AS lock_held,
       i.address, i.status AS instance_status
FROM docket.leadership l
LEFT JOIN docket.instances i ON i.id = l.instance_id;

-- The bus: the newest event, the horizon (no event can still commit at or below it), what waits behind an open writer,
-- the oldest open writer, and PostgreSQL's NOTIFY queue.
CREATE VIEW docket.event_lag AS
WITH h AS (SELECT docket.events_horizon() AS horizon),
     writers AS (
         SELECT k.pid, ((k.classid::bigint << 32) | k.objid::bigint) - 4611686018427387904 AS bound
         FROM pg_locks k
         WHERE k.locktype = 'advisory' AND k.objsubid = 1 AND k.classid::bigint >= 1073741824
           AND k.database = (SELECT oid FROM pg_database WHERE datname = current_database()))
SELECT (SELECT max(seq) FROM docket.events) AS last_seq,
       h.horizon,
       (SELECT count(*) FROM docket.events e WHERE e.seq > h.horizon) AS held_back,
       (SELECT count(*) FROM writers) AS open_writers,
       (SELECT now() - min(a.xact_start) FROM writers w JOIN pg_stat_activity a ON a.pid = w.pid) AS oldest_writer_age,
       (SELECT min(w.pid) FROM writers w WHERE w.bound = (SELECT min(bound) FROM writers)) AS oldest_writer_pid,
       (SELECT max(occurred_at) FROM docket.events) AS last_event_at,
       pg_notification_queue_usage() AS notify_queue_usage
FROM h;

-- Instances with their heartbeat age and role; listener and election connections as PostgreSQL sees them.
CREATE VIEW docket.instance_health AS
SELECT i.id, i.status, i.address, i.http_address, i.version, i.hostname, i.pid, i.started_at, i.heartbeat_at,
       now() - i.heartbeat_at AS heartbeat_age,
       (l.instance_id IS NOT NULL) AS is_leader,
       EXISTS (SELECT 1 FROM pg_stat_activity a
               WHERE a.application_name = 'docket-listener-' || left(i.id, 8) AND a.datname = current_database())
           AS listener_connected
FROM docket.instances i
LEFT JOIN docket.leadership l ON l.instance_id = i.id;

-- Each sweep's last pass and how long ago it was.
CREATE VIEW docket.sweep_status AS
SELECT kind, instance_id, epoch, last_run_at, now() - last_run_at AS age, changed, total_changed, duration_ms
FROM docket.sweep_runs;

-- Callbacks waiting or failed: what is due, how often it was tried, the last outcome.
CREATE VIEW docket.callback_queue AS
SELECT tenant_id, id AS job_id, status, callback_url, callback_due_at,
       callback ->> 'state' AS state, (callback ->> 'attempts')::int AS attempts,
       callback ->> 'status_code' AS last_status_code, callback ->> 'error' AS last_error,
       callback ->> 'sent_at' AS last_sent_at
FROM docket.jobs
WHERE callback_url IS NOT NULL AND callback IS NOT NULL AND callback ->> 'state' <> 'delivered';

INSERT INTO docket.schema_migrations (version, name) VALUES (5, 'operations');
