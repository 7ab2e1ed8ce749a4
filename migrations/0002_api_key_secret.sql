-- 0002: the server-side secret that API-key hashes are keyed with.
--
-- API keys are stored as HMAC-SHA256(secret, key secret); this row holds that secret, made once from the server's
-- strong random source. Every instance reads it, so all of them verify the same keys. Rotating it invalidates every key.

CREATE TABLE docket.server_secrets (
    name        text        PRIMARY KEY,
    value       bytea       NOT NULL CHECK (length(value) >= 32),
    created_at  timestamptz NOT NULL DEFAULT now()
);

INSERT INTO docket.server_secrets (name, value)
VALUES ('api_key_hmac', sha256((gen_random_uuid()::text || gen_random_uuid()::text || gen_random_uuid()::text)::bytea));

INSERT INTO docket.schema_migrations (version, name) VALUES (2, 'api_key_secret');
