-- Identity and access (crates/auth): users, refresh-token families, the hash-chained audit
-- log and its head (the last row's seq and hash, so deleting the newest rows is caught too).
CREATE TABLE users (
    id            TEXT PRIMARY KEY NOT NULL,
    email         TEXT NOT NULL UNIQUE,
    password_hash TEXT NOT NULL,
    role          TEXT NOT NULL CHECK (role IN ('admin', 'operator', 'viewer')),
    disabled      BOOLEAN NOT NULL DEFAULT FALSE,
    created_at_ms BIGINT NOT NULL
);

CREATE TABLE refresh_tokens (
    id            TEXT PRIMARY KEY NOT NULL,
    family        TEXT NOT NULL,
    user_id       TEXT NOT NULL REFERENCES users (id),
    secret_hash   BYTEA NOT NULL,
    expires_at_ms BIGINT NOT NULL,
    used_at_ms    BIGINT,
    revoked_at_ms BIGINT
);

CREATE INDEX refresh_tokens_family ON refresh_tokens (family);

CREATE TABLE audit_log (
    seq        BIGINT PRIMARY KEY NOT NULL,
    at_ms      BIGINT NOT NULL,
    actor      TEXT NOT NULL,
    action     TEXT NOT NULL,
    target     TEXT NOT NULL,
    result     TEXT NOT NULL,
    ip         TEXT NOT NULL,
    user_agent TEXT NOT NULL,
    prev_hash  BYTEA NOT NULL,
    hash       BYTEA NOT NULL
);

CREATE TABLE audit_head (
    id   INTEGER PRIMARY KEY NOT NULL CHECK (id = 1),
    seq  BIGINT NOT NULL,
    hash BYTEA NOT NULL
);
