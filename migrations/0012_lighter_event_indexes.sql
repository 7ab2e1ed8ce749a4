-- 0012: an event costs three B-tree entries instead of five (docs/schema.md, docs/decisions.md). Every job transition
-- writes two events, so a claim and its completion wrote twenty event index entries of about forty-five in all.
-- `events_id_key` goes: an event's id is a random v4 UUID made by docketd, unique by construction, and nothing reads an
-- event by id (clients match pushed events by seq and id themselves). `events_retention_idx` becomes a BRIN index:
-- `occurred_at` rises with the heap, so block ranges summarise it, and a range not yet summarised costs an insert
-- nothing. The retention sweep deletes any batch of events older than its cutoff, oldest ranges first; an older
-- docketd's prune (`ORDER BY occurred_at`) still runs during a rolling upgrade, by a sort instead of the index order.
ALTER TABLE docket.events DROP CONSTRAINT events_id_key;
DROP INDEX docket.events_retention_idx;
CREATE INDEX events_retention_idx ON docket.events USING brin (occurred_at) WITH (autosummarize = on);

INSERT INTO docket.schema_migrations (version, name) VALUES (12, 'lighter_event_indexes');
