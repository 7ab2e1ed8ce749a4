-- 0001: Docket's base schema.
--
-- Applied by `docket migrate` (and by docketd at start) in one transaction under an advisory lock.
-- To apply by hand:  psql "$DATABASE_URL" --single-transaction -v ON_ERROR_STOP=1 -f migrations/0001_base_schema.sql
-- Every table, column group and index is described in docs/schema.md.

CREATE SCHEMA IF NOT EXISTS docket;

-- Applied migrations. Each file records itself as its last statement.
CREATE TABLE IF NOT EXISTS docket.schema_migrations (
    version     integer     PRIMARY KEY,
    name        text        NOT NULL,
    checksum    text,
    applied_at  timestamptz NOT NULL DEFAULT now()
);

-- Jobs (SPEC 2.2).
CREATE TABLE docket.jobs (
    id                  uuid        PRIMARY KEY,
    tenant_id           text        NOT NULL CHECK (tenant_id <> ''),
    name                text        NOT NULL CHECK (length(name) BETWEEN 1 AND 500),
    description         text,
    status              text        NOT NULL DEFAULT 'draft'
        CHECK (status IN ('draft', 'scheduled', 'running', 'paused', 'succeeded', 'failed', 'cancelled')),
    priority            smallint    NOT NULL DEFAULT 50 CHECK (priority BETWEEN 1 AND 100),
    schedule            jsonb       CHECK (schedule IS NULL OR jsonb_typeof(schedule) = 'object'),
    next_run_at         timestamptz,
    current_slot        timestamptz,
    run_count           integer     NOT NULL DEFAULT 0 CHECK (run_count >= 0),
    assigned_agent      text,
    delegation_chain    jsonb       NOT NULL DEFAULT '[]' CHECK (jsonb_typeof(delegation_chain) = 'array'),
    execution_context   jsonb       NOT NULL DEFAULT '{}' CHECK (jsonb_typeof(execution_context) = 'object'),
    checkpoint_data     jsonb       CHECK (checkpoint_data IS NULL OR jsonb_typeof(checkpoint_data) = 'object'),
    last_completed_step integer,
    estimated_cost      numeric(20, 6) CHECK (estimated_cost >= 0),
    actual_cost         numeric(20, 6) CHECK (actual_cost >= 0),
    timeout_seconds     integer     CHECK (timeout_seconds > 0),
    deadline_at         timestamptz,
    plan_id             text,
    plan_step_index     integer,
    metadata            jsonb       NOT NULL DEFAULT '{}' CHECK (jsonb_typeof(metadata) = 'object'),
    callback_url        text        CHECK (callback_url IS NULL OR callback_url ~ '^https?://'),
    callback            jsonb,
    callback_due_at     timestamptz,
    retry_policy        jsonb       CHECK (retry_policy IS NULL OR jsonb_typeof(retry_policy) = 'object'),
    attempt             integer     NOT NULL DEFAULT 0 CHECK (attempt >= 0),
    retry_at            timestamptz,
    result_summary      text,
    output              jsonb,
    error_code          text,
    error_message       text,
    cancel_requested    jsonb       CHECK (cancel_requested IS NULL OR jsonb_typeof(cancel_requested) = 'object'),
    cancel_deadline_at  timestamptz,
    pause_requested     boolean     NOT NULL DEFAULT false,
    claimed_by          text,
    lease_expires_at    timestamptz,
    ttft_ns             bigint      CHECK (ttft_ns >= 0),
    total_duration_ns   bigint      CHECK (total_duration_ns >= 0),
    idempotency_key     text,
    created_by          text        NOT NULL,
    created_at          timestamptz NOT NULL DEFAULT now(),
    updated_at          timestamptz NOT NULL DEFAULT now(),
    started_at          timestamptz,
    finished_at         timestamptz,
    version             bigint      NOT NULL DEFAULT 1 CHECK (version >= 1),
    CONSTRAINT jobs_tenant_id_key UNIQUE (tenant_id, id),
    CONSTRAINT jobs_idempotency_key UNIQUE (tenant_id, idempotency_key),
    CONSTRAINT jobs_scheduled_has_next_run CHECK (status <> 'scheduled' OR next_run_at IS NOT NULL)
);

-- List filters: every list is per tenant, ordered by (created_at, id) for keyset pagination.
CREATE INDEX jobs_tenant_created_idx ON docket.jobs (tenant_id, created_at, id);
CREATE INDEX jobs_tenant_status_created_idx ON docket.jobs (tenant_id, status, created_at, id);
CREATE INDEX jobs_tenant_agent_idx ON docket.jobs (tenant_id, assigned_agent, created_at, id)
    WHERE assigned_agent IS NOT NULL;
CREATE INDEX jobs_tenant_plan_idx ON docket.jobs (tenant_id, plan_id, plan_step_index)
    WHERE plan_id IS NOT NULL;
CREATE INDEX jobs_metadata_idx ON docket.jobs USING gin (metadata jsonb_path_ops);
-- Budget gate: the period's cost per tenant.
CREATE INDEX jobs_tenant_started_cost_idx ON docket.jobs (tenant_id, started_at)
    INCLUDE (actual_cost, estimated_cost) WHERE started_at IS NOT NULL;
-- Claim: due work, highest priority first, then earliest due.
CREATE INDEX jobs_claim_scheduled_idx ON docket.jobs (tenant_id, priority DESC, next_run_at)
    WHERE status = 'scheduled';
CREATE INDEX jobs_claim_unheld_idx ON docket.jobs (tenant_id, priority DESC, started_at)
    WHERE status = 'running' AND claimed_by IS NULL;
-- Sweeps (SPEC 4.3), each a partial index over only what can be due.
CREATE INDEX jobs_due_idx ON docket.jobs (next_run_at) WHERE status = 'scheduled';
CREATE INDEX jobs_deadline_idx ON docket.jobs (deadline_at) WHERE status = 'running' AND deadline_at IS NOT NULL;
CREATE INDEX jobs_lease_idx ON docket.jobs (lease_expires_at) WHERE status = 'running' AND lease_expires_at IS NOT NULL;
CREATE INDEX jobs_cancel_grace_idx ON docket.jobs (cancel_deadline_at)
    WHERE status = 'running' AND cancel_deadline_at IS NOT NULL;
CREATE INDEX jobs_retry_idx ON docket.jobs (retry_at) WHERE status = 'failed' AND retry_at IS NOT NULL;
CREATE INDEX jobs_callback_idx ON docket.jobs (callback_due_at) WHERE callback_due_at IS NOT NULL;

-- Job runs: one row per occurrence and attempt (SPEC 2.3). The unique key makes a slot fire at most once.
CREATE TABLE docket.job_runs (
    id              uuid        PRIMARY KEY,
    job_id          uuid        NOT NULL,
    tenant_id       text        NOT NULL,
    run_number      integer     NOT NULL CHECK (run_number >= 1),
    attempt         integer     NOT NULL CHECK (attempt >= 1),
    scheduled_for   timestamptz NOT NULL,
    started_at      timestamptz NOT NULL DEFAULT now(),
    finished_at     timestamptz,
    status          text        NOT NULL DEFAULT 'running'
        CHECK (status IN ('running', 'succeeded', 'failed', 'cancelled', 'timed_out')),
    error_code      text,
    error_message   text,
    actual_cost     numeric(20, 6) CHECK (actual_cost >= 0),
    result_summary  text,
    instance_id     text,
    claimed_by      text,
    leader_epoch    bigint,
    CONSTRAINT job_runs_slot_key UNIQUE (job_id, scheduled_for, attempt),
    CONSTRAINT job_runs_job_fkey FOREIGN KEY (tenant_id, job_id)
        REFERENCES docket.jobs (tenant_id, id) ON DELETE CASCADE,
    CONSTRAINT job_runs_finished CHECK ((status = 'running') = (finished_at IS NULL))
);
CREATE INDEX job_runs_history_idx ON docket.job_runs (job_id, run_number, attempt);
CREATE INDEX job_runs_open_idx ON docket.job_runs (job_id) WHERE status = 'running';
CREATE INDEX job_runs_retention_idx ON docket.job_runs (finished_at) WHERE finished_at IS NOT NULL;

-- Tasks (SPEC 2.5). Composite keys keep parents, jobs and dependencies inside one tenant.
CREATE TABLE docket.tasks (
    id                  uuid        PRIMARY KEY,
    tenant_id           text        NOT NULL CHECK (tenant_id <> ''),
    title               text        NOT NULL CHECK (length(title) BETWEEN 1 AND 500),
    description         text,
    status              text        NOT NULL DEFAULT 'pending'
        CHECK (status IN ('pending', 'blocked', 'in_progress', 'completed', 'cancelled')),
    priority            smallint    NOT NULL DEFAULT 50 CHECK (priority BETWEEN 1 AND 100),
    owner_id            text        NOT NULL,
    assignee_id         text,
    assignee_type       text        CHECK (assignee_type IN ('user', 'agent')),
    assigned_agent      text,
    delegation_chain    jsonb       NOT NULL DEFAULT '[]' CHECK (jsonb_typeof(delegation_chain) = 'array'),
    execution_context   jsonb       NOT NULL DEFAULT '{}' CHECK (jsonb_typeof(execution_context) = 'object'),
    estimated_cost      numeric(20, 6) CHECK (estimated_cost >= 0),
    actual_cost         numeric(20, 6) CHECK (actual_cost >= 0),
    timeout_seconds     integer     CHECK (timeout_seconds > 0),
    deadline_at         timestamptz,
    parent_id           uuid,
    job_id              uuid,
    completion_notes    text,
    cancel_reason       text,
    metadata            jsonb       NOT NULL DEFAULT '{}' CHECK (jsonb_typeof(metadata) = 'object'),
    created_at          timestamptz NOT NULL DEFAULT now(),
    updated_at          timestamptz NOT NULL DEFAULT now(),
    started_at          timestamptz,
    completed_at        timestamptz,
    version             bigint      NOT NULL DEFAULT 1 CHECK (version >= 1),
    CONSTRAINT tasks_tenant_id_key UNIQUE (tenant_id, id),
    CONSTRAINT tasks_parent_fkey FOREIGN KEY (tenant_id, parent_id)
        REFERENCES docket.tasks (tenant_id, id) ON DELETE CASCADE,
    CONSTRAINT tasks_job_fkey FOREIGN KEY (tenant_id, job_id)
        REFERENCES docket.jobs (tenant_id, id) ON DELETE SET NULL (job_id),
    CONSTRAINT tasks_not_own_parent CHECK (parent_id IS NULL OR parent_id <> id)
);
CREATE INDEX tasks_tenant_order_idx ON docket.tasks (tenant_id, priority DESC, created_at, id);
CREATE INDEX tasks_tenant_status_idx ON docket.tasks (tenant_id, status, priority DESC, created_at, id);
CREATE INDEX tasks_assignee_idx ON docket.tasks (tenant_id, assignee_id) WHERE assignee_id IS NOT NULL;
CREATE INDEX tasks_parent_idx ON docket.tasks (parent_id) WHERE parent_id IS NOT NULL;
CREATE INDEX tasks_job_idx ON docket.tasks (job_id) WHERE job_id IS NOT NULL;
CREATE INDEX tasks_deadline_idx ON docket.tasks (deadline_at) WHERE status = 'in_progress' AND deadline_at IS NOT NULL;

-- Task dependencies: task_id depends on depends_on_id.
CREATE TABLE docket.task_dependencies (
    task_id         uuid        NOT NULL,
    depends_on_id   uuid        NOT NULL,
    tenant_id       text        NOT NULL,
    dependency_type text        NOT NULL DEFAULT 'finish_to_start'
        CHECK (dependency_type IN ('finish_to_start', 'start_to_start', 'finish_to_finish', 'follows')),
    created_by      text,
    created_at      timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (task_id, depends_on_id),
    CONSTRAINT task_dependencies_task_fkey FOREIGN KEY (tenant_id, task_id)
        REFERENCES docket.tasks (tenant_id, id) ON DELETE CASCADE,
    CONSTRAINT task_dependencies_depends_on_fkey FOREIGN KEY (tenant_id, depends_on_id)
        REFERENCES docket.tasks (tenant_id, id) ON DELETE CASCADE,
    CONSTRAINT task_dependencies_not_self CHECK (task_id <> depends_on_id)
);
CREATE INDEX task_dependencies_dependents_idx ON docket.task_dependencies (depends_on_id);

-- Links between jobs and tasks (many-to-many, with a role).
CREATE TABLE docket.job_tasks (
    job_id            uuid        NOT NULL,
    task_id           uuid        NOT NULL,
    tenant_id         text        NOT NULL,
    relationship_type text        NOT NULL DEFAULT 'step'
        CHECK (relationship_type IN ('primary', 'supporting', 'prerequisite', 'step')),
    metadata          jsonb       NOT NULL DEFAULT '{}' CHECK (jsonb_typeof(metadata) = 'object'),
    created_at        timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (job_id, task_id),
    CONSTRAINT job_tasks_job_fkey FOREIGN KEY (tenant_id, job_id)
        REFERENCES docket.jobs (tenant_id, id) ON DELETE CASCADE,
    CONSTRAINT job_tasks_task_fkey FOREIGN KEY (tenant_id, task_id)
        REFERENCES docket.tasks (tenant_id, id) ON DELETE CASCADE
);
CREATE INDEX job_tasks_task_idx ON docket.job_tasks (task_id);

-- Domain events: the transactional outbox and the bus order (SPEC 2.7, 4.4).
-- `xid` lets readers stay below the oldest in-flight writer, so a lower seq that commits late is never skipped.
CREATE TABLE docket.events (
    seq         bigint      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    id          uuid        NOT NULL UNIQUE,
    topic       text        NOT NULL CHECK (topic ~ '^(job|task|cluster)\.[a-z_]+$'),
    tenant_id   text,
    entity_type text        NOT NULL CHECK (entity_type IN ('job', 'task', 'cluster')),
    entity_id   text,
    actor_id    text,
    occurred_at timestamptz NOT NULL DEFAULT now(),
    data        jsonb       NOT NULL DEFAULT '{}',
    xid         xid8        NOT NULL DEFAULT pg_current_xact_id(),
    CONSTRAINT events_tenant_required CHECK (entity_type = 'cluster' OR tenant_id IS NOT NULL)
);
CREATE INDEX events_tenant_seq_idx ON docket.events (tenant_id, seq);
CREATE INDEX events_entity_idx ON docket.events (entity_id, seq);
CREATE INDEX events_retention_idx ON docket.events (occurred_at);

-- API keys: only a keyed hash of the secret is stored.
CREATE TABLE docket.api_keys (
    id           text        PRIMARY KEY,
    key_hash     bytea       NOT NULL,
    actor_id     text        NOT NULL,
    actor_type   text        NOT NULL CHECK (actor_type IN ('user', 'agent', 'service', 'system')),
    tenant_id    text        NOT NULL CHECK (tenant_id <> ''),
    scopes       text[]      NOT NULL CHECK (scopes <@ ARRAY['job:read', 'job:write', 'job:execute', 'job:admin',
        'task:read', 'task:write', 'task:admin', 'cluster:read', 'cluster:admin']::text[]),
    description  text,
    created_at   timestamptz NOT NULL DEFAULT now(),
    expires_at   timestamptz,
    revoked_at   timestamptz,
    last_used_at timestamptz
);
CREATE INDEX api_keys_tenant_idx ON docket.api_keys (tenant_id, created_at);

-- Instances of docketd and their heartbeats (SPEC 4.1).
CREATE TABLE docket.instances (
    id            text        PRIMARY KEY,
    address       text,
    http_address  text,
    version       text        NOT NULL,
    hostname      text,
    pid           integer,
    status        text        NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'gone', 'stopped')),
    started_at    timestamptz NOT NULL DEFAULT now(),
    heartbeat_at  timestamptz NOT NULL DEFAULT now(),
    stopped_at    timestamptz
);
CREATE INDEX instances_liveness_idx ON docket.instances (heartbeat_at) WHERE status = 'active';

-- Leadership: one row per election key; the epoch fences sweep writes (SPEC 4.2).
CREATE TABLE docket.leadership (
    name          text        PRIMARY KEY DEFAULT 'default',
    instance_id   text,
    epoch         bigint      NOT NULL DEFAULT 0 CHECK (epoch >= 0),
    backend_pid   integer,
    elected_at    timestamptz,
    heartbeat_at  timestamptz
);

-- Budgets per tenant (SPEC 2.2 budget gate).
CREATE TABLE docket.budgets (
    tenant_id     text        PRIMARY KEY CHECK (tenant_id <> ''),
    limit_amount  numeric(20, 6) NOT NULL CHECK (limit_amount >= 0),
    period        text        NOT NULL CHECK (period IN ('day', 'month', 'total')),
    updated_by    text,
    updated_at    timestamptz NOT NULL DEFAULT now()
);

INSERT INTO docket.schema_migrations (version, name) VALUES (1, 'base_schema');
