-- 0008: finished jobs are pruned too (docs/operations.md, "Retention"). The leader deletes, a batch at a time, jobs
-- that ended — succeeded, cancelled, or failed with no retry left — longer ago than their status's retention, and
-- whose completion callback is not waiting to be delivered; their runs and task links go with them (ON DELETE
-- CASCADE), tasks that named them keep existing with no job. This index finds them oldest first, per status.
CREATE INDEX jobs_retention_idx ON docket.jobs (status, finished_at)
    WHERE status IN ('succeeded', 'cancelled', 'failed') AND retry_at IS NULL AND callback_due_at IS NULL;

INSERT INTO docket.schema_migrations (version, name) VALUES (8, 'job_retention');
