-- API keys for machines and external agents (crates/auth/src/api_keys.rs): the secret is
-- stored only as its BLAKE3 hash; scopes are a comma-separated list.
CREATE TABLE api_keys (
    id              TEXT PRIMARY KEY NOT NULL,
    name            TEXT NOT NULL,
    project         TEXT NOT NULL,
    scopes          TEXT NOT NULL,
    rate_per_min    BIGINT NOT NULL,
    max_concurrency BIGINT NOT NULL,
    secret_hash     BYTEA NOT NULL,
    created_by      TEXT NOT NULL,
    created_at_ms   BIGINT NOT NULL,
    last_used_at_ms BIGINT,
    revoked_at_ms   BIGINT
);
