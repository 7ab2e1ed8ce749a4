-- 0004: the event bus's ordering guarantee (SPEC 4.4, docs/cluster.md "The event bus").
--
-- `seq` values are drawn when a row is inserted but become visible when its transaction commits, so a reader that saw
-- seq 11 may later see seq 10 commit. Every transaction that writes events therefore announces, before it draws its
-- first seq, a lower bound of the seqs it may commit: a shared transaction-level advisory lock whose key is the last
-- seq drawn so far (plus 2^62, to stay clear of other bigint-keyed locks). The lock goes away when the transaction
-- ends, after its rows are visible. `docket.events_horizon()` is then the highest seq below which nothing can still
-- appear: the last seq drawn, or less than the lowest bound an open writer holds. Readers deliver up to it only.
--
-- Writers take no lock that another writer waits for (shared locks), so event inserts are not serialised; a reader
-- does not block writers either (it only reads the sequence and pg_locks).

-- The seq bound relies on a sequence that hands out values in order across sessions: no per-session cache.
ALTER TABLE docket.events ALTER COLUMN seq SET CACHE 1;

-- Superseded by the horizon below: reading below the oldest in-flight xid can still skip a lower seq that commits late.
ALTER TABLE docket.events DROP COLUMN xid;

CREATE FUNCTION docket.events_fence() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    mark text := pg_current_xact_id()::text;
    drawn bigint;
BEGIN
    -- Once per transaction: the first bound is the lowest, and it is held until the transaction ends.
    IF current_setting('docket.events_fence', true) IS DISTINCT FROM mark THEN
        SELECT CASE WHEN is_called THEN last_value ELSE last_value - 1 END INTO drawn FROM docket.events_seq_seq;
        PERFORM pg_advisory_xact_lock_shared(4611686018427387904 + drawn);
        PERFORM set_config('docket.events_fence', mark, true);
    END IF;
    RETURN NULL;
END $$;

-- A statement-level BEFORE trigger runs before the statement computes any row's defaults, so before `seq` is drawn:
-- every writer (docketd, a DBA's INSERT, COPY) is covered.
CREATE TRIGGER events_fence BEFORE INSERT ON docket.events
    FOR EACH STATEMENT EXECUTE FUNCTION docket.events_fence();

CREATE FUNCTION docket.events_horizon() RETURNS bigint LANGUAGE plpgsql VOLATILE AS $$
DECLARE
    drawn bigint;
    held bigint;
BEGIN
    -- The sequence first, then the bounds: a writer that takes its bound after we read pg_locks draws above `drawn`.
    SELECT CASE WHEN is_called THEN last_value ELSE last_value - 1 END INTO drawn FROM docket.events_seq_seq;
    SELECT min(((l.classid::bigint << 32) | l.objid::bigint) - 4611686018427387904) INTO held
    FROM pg_locks l
    WHERE l.locktype = 'advisory' AND l.objsubid = 1 AND l.classid::bigint >= 1073741824
      AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database());
    RETURN least(drawn, held);
END $$;

COMMENT ON FUNCTION docket.events_horizon() IS
    'Highest events.seq below which no row can still commit: read events with seq <= this value only.';

INSERT INTO docket.schema_migrations (version, name) VALUES (4, 'event_bus');
