-- Server processes sharing this database (see crates/db/src/nodes.rs).
-- Timestamps are RFC 3339 text in UTC (sqlx's encoding of chrono::DateTime<Utc>).
CREATE TABLE nodes (
    id           TEXT PRIMARY KEY NOT NULL,
    hostname     TEXT NOT NULL,
    version      TEXT NOT NULL,
    listen       TEXT NOT NULL,
    started_at   TEXT NOT NULL,
    last_seen_at TEXT NOT NULL,
    stopped_at   TEXT
) STRICT;
