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

INSERT INTO docket.schema_migrations (version, name) VALUES (7, 'queue_settings');
