-- 0010: a one-time job with a kind waits for a worker (docs/jobs.md, "Who starts a due job"). The recurrence sweep
-- starts due jobs without a kind and recurring ones; a due one-time job with a kind stays scheduled until a claim takes
-- it, as River's and Oban's available jobs do, instead of being started by the leader and then taken over by a claim
-- (three writes of its row instead of two). The sweep's index holds only the jobs it starts, so a backlog of worker jobs
-- costs its passes nothing.
DROP INDEX docket.jobs_due_idx;
CREATE INDEX jobs_due_idx ON docket.jobs (next_run_at)
    WHERE status = 'scheduled' AND (kind IS NULL OR schedule->>'kind' <> 'once');

INSERT INTO docket.schema_migrations (version, name) VALUES (10, 'worker_jobs_wait');
