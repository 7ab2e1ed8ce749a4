-- 0003: the leader epoch on events (beside the one job_runs already carries), and the sweeps' last passes.
--
-- Writes made by the leader's sweeps carry the epoch of the term they were made in, so an operator (and the tests) can
-- check that no write of an old term lands after a newer term's first write. Writes made by API calls leave it null.

ALTER TABLE docket.events ADD COLUMN leader_epoch bigint;

-- The last pass of each maintenance sweep, for `cluster.status` and operators.
CREATE TABLE docket.sweep_runs (
    kind         text        PRIMARY KEY,
    instance_id  text        NOT NULL,
    epoch        bigint      NOT NULL,
    last_run_at  timestamptz NOT NULL,
    changed      integer     NOT NULL CHECK (changed >= 0),
    duration_ms  double precision NOT NULL,
    total_changed bigint     NOT NULL DEFAULT 0
);

INSERT INTO docket.schema_migrations (version, name) VALUES (3, 'sweeps');
