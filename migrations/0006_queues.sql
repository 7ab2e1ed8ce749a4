-- 0006: every job belongs to a queue, may name a kind (the handler a worker runs it with) and carries its args
-- (the handler's input, fixed at create). Existing jobs are in the queue `default` with empty args.

ALTER TABLE docket.jobs
    ADD COLUMN queue text  NOT NULL DEFAULT 'default' CHECK (queue ~ '^[a-z0-9_.-]{1,100}$'),
    ADD COLUMN kind  text  CHECK (char_length(kind) BETWEEN 1 AND 200),
    ADD COLUMN args  jsonb NOT NULL DEFAULT '{}'::jsonb CHECK (jsonb_typeof(args) = 'object');

-- `job.list` by queue, in keyset order.
CREATE INDEX jobs_tenant_queue_created_idx ON docket.jobs (tenant_id, queue, created_at, id);

INSERT INTO docket.schema_migrations (version, name) VALUES (6, 'queues');
