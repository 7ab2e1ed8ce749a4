-- 0007: queue settings (docs/protocol.md, "Queues"). A queue without a row has the defaults: no concurrency limit, no
-- rate limit, not paused, weight 1. A start in a queue that has a row locks that row (FOR UPDATE) and counts against
-- it, so the limits hold exactly across instances while unrelated queues never wait for each other.

CREATE TABLE docket.queues (
    tenant_id           text        NOT NULL CHECK (tenant_id <> ''),
    name                text        NOT NULL CHECK (name ~ '^[a-z0-9_.-]{1,100}$'),
    concurrency         integer     CHECK (concurrency > 0),
    rate_limit_count    integer     CHECK (rate_limit_count > 0),
    rate_limit_seconds  integer     CHECK (rate_limit_seconds > 0),
    paused              boolean     NOT NULL DEFAULT false,
    weight              integer     NOT NULL DEFAULT 1 CHECK (weight > 0),
    updated_at          timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, name),
    CONSTRAINT queues_rate_limit_whole CHECK ((rate_limit_count IS NULL) = (rate_limit_seconds IS NULL))
);

-- The concurrency check: a queue's running jobs.
CREATE INDEX jobs_queue_running_idx ON docket.jobs (tenant_id, queue) WHERE status = 'running';
-- The rate-limit check: a tenant's starts (runs) since a moment.
CREATE INDEX job_runs_tenant_started_idx ON docket.job_runs (tenant_id, started_at);

-- Queue events (queue.updated, queue.paused, queue.resumed).
ALTER TABLE docket.events DROP CONSTRAINT events_entity_type_check;
ALTER TABLE docket.events ADD CONSTRAINT events_entity_type_check CHECK (entity_type IN ('job', 'task', 'cluster', 'queue'));
ALTER TABLE docket.events DROP CONSTRAINT events_topic_check;
ALTER TABLE docket.events ADD CONSTRAINT events_topic_check CHECK (topic ~ '^(job|task|cluster|queue)\.[a-z_]+$');

-- Every queue of every tenant — with settings, or only with jobs — its settings and its jobs by state (docs/operations.md).
CREATE VIEW docket.queue_overview AS
WITH names AS (
    SELECT DISTINCT tenant_id, queue AS name FROM docket.jobs
    UNION
    SELECT tenant_id, name FROM docket.queues
), counts AS (
    SELECT tenant_id, queue AS name,
           count(*) FILTER (WHERE (status = 'scheduled' AND next_run_at <= now())
                               OR (status = 'running' AND claimed_by IS NULL))::int AS available,
           count(*) FILTER (WHERE status = 'scheduled' AND next_run_at > now())::int AS scheduled,
           count(*) FILTER (WHERE status = 'running')::int AS running,
           count(*) FILTER (WHERE status = 'failed')::int AS failed,
           min(CASE WHEN status = 'scheduled' AND next_run_at <= now() THEN next_run_at
                    WHEN status = 'running' AND claimed_by IS NULL THEN started_at END) AS oldest_available_since
    FROM docket.jobs
    GROUP BY tenant_id, queue
)
SELECT n.tenant_id, n.name AS queue, q.concurrency, q.rate_limit_count, q.rate_limit_seconds,
       coalesce(q.paused, false) AS paused, coalesce(q.weight, 1) AS weight, q.updated_at,
       coalesce(c.available, 0) AS available, coalesce(c.scheduled, 0) AS scheduled, coalesce(c.running, 0) AS running,
       coalesce(c.failed, 0) AS failed, c.oldest_available_since
FROM names n
LEFT JOIN docket.queues q ON q.tenant_id = n.tenant_id AND q.name = n.name
LEFT JOIN counts c ON c.tenant_id = n.tenant_id AND c.name = n.name;

INSERT INTO docket.schema_migrations (version, name) VALUES (7, 'queue_settings');
