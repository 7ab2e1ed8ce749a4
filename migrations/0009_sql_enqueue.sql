-- 0009: SQL enqueue (docs/sql-enqueue.md). An application sharing the database creates a job inside its own
-- transaction by calling docket.enqueue(): the function records a request and returns the job's id at once; docketd
-- (the leader) turns committed requests into jobs with job.create's own validation, defaults and events, so the rules
-- stay in one place. A rolled-back transaction leaves no request, hence no job and no event. The role docket_enqueue
-- may call the two functions and nothing else.
CREATE TABLE docket.job_requests (
    id             bigserial PRIMARY KEY,
    -- The id the caller was given: the job's id once created.
    job_id         uuid NOT NULL UNIQUE,
    tenant_id      text NOT NULL,
    -- job.create's arguments (kind, args and the caller's options, with the defaults the function adds).
    arguments      jsonb NOT NULL,
    requested_by   text NOT NULL,
    requested_at   timestamptz NOT NULL DEFAULT now(),
    status         text NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'created', 'refused')),
    -- The job that stands for the request: job_id, or the earlier job an idempotency_key matched.
    created_job_id uuid,
    error_code     text,
    error_message  text,
    processed_at   timestamptz
);
CREATE INDEX job_requests_pending_idx ON docket.job_requests (id) WHERE status = 'pending';
CREATE INDEX job_requests_processed_idx ON docket.job_requests (processed_at) WHERE status <> 'pending';

-- Records a request to create a job of `kind` with `args` for `tenant_id`; `options` takes any other job.create
-- argument (name, queue, priority, schedule, metadata, retry_policy, idempotency_key, …). Without a schedule the job
-- is due now (a `schedule` of null leaves it a draft). Returns the job's id.
CREATE FUNCTION docket.enqueue(tenant_id text, kind text, args jsonb DEFAULT '{}'::jsonb, options jsonb DEFAULT '{}'::jsonb)
RETURNS uuid LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    new_id uuid := gen_random_uuid();
BEGIN
    IF options IS NULL OR jsonb_typeof(options) <> 'object' THEN
        RAISE EXCEPTION 'docket.enqueue: options must be a JSON object' USING ERRCODE = '22023';
    END IF;
    INSERT INTO docket.job_requests (job_id, tenant_id, arguments, requested_by)
    VALUES (new_id, enqueue.tenant_id,
            jsonb_build_object('name', enqueue.kind, 'schedule', jsonb_build_object('kind', 'once', 'run_at', now()))
              || options || jsonb_build_object('kind', enqueue.kind, 'args', coalesce(enqueue.args, '{}'::jsonb)),
            session_user);
    -- Delivered only if the transaction commits: wakes the leader's intake at once.
    PERFORM pg_notify('docket_events', 'intake');
    RETURN new_id;
END
$$;

-- What became of a request: pending, created (with the job's id) or refused (with job.create's error code).
CREATE FUNCTION docket.enqueue_status(job_id uuid)
RETURNS TABLE (status text, created_job_id uuid, error_code text, error_message text)
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
    SELECT r.status, r.created_job_id, r.error_code, r.error_message FROM docket.job_requests r WHERE r.job_id = enqueue_status.job_id
$$;

REVOKE EXECUTE ON FUNCTION docket.enqueue(text, text, jsonb, jsonb) FROM PUBLIC;
REVOKE EXECUTE ON FUNCTION docket.enqueue_status(uuid) FROM PUBLIC;

-- Roles belong to the whole PostgreSQL cluster: created once (every database's migration may try), and skipped with a
-- notice where the migrating user may not create roles (a managed database: create it by hand, then grant as below).
DO $$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'docket_enqueue') THEN
        BEGIN
            CREATE ROLE docket_enqueue NOLOGIN;
        EXCEPTION
            WHEN duplicate_object OR unique_violation THEN NULL;
            WHEN insufficient_privilege THEN
                RAISE NOTICE 'role docket_enqueue not created (no CREATEROLE): create it and grant it docket.enqueue by hand';
        END;
    END IF;
    IF EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'docket_enqueue') THEN
        GRANT USAGE ON SCHEMA docket TO docket_enqueue;
        GRANT EXECUTE ON FUNCTION docket.enqueue(text, text, jsonb, jsonb) TO docket_enqueue;
        GRANT EXECUTE ON FUNCTION docket.enqueue_status(uuid) TO docket_enqueue;
    END IF;
END
$$;

INSERT INTO docket.schema_migrations (version, name) VALUES (9, 'sql_enqueue');
