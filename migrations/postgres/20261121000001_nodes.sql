-- Server processes sharing this database (see crates/db/src/nodes.rs).
CREATE TABLE nodes (
    id           TEXT PRIMARY KEY NOT NULL,
    hostname     TEXT NOT NULL,
    version      TEXT NOT NULL,
    listen       TEXT NOT NULL,
    started_at   TIMESTAMPTZ NOT NULL,
    last_seen_at TIMESTAMPTZ NOT NULL,
    stopped_at   TIMESTAMPTZ
);
