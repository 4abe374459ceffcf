-- The tiered store's L4 tier (crates/store/src/l4.rs): old segments compacted into
-- encrypted archive objects under archive/ in the object store; these tables index them.
CREATE TABLE store_archives (
    id            TEXT PRIMARY KEY NOT NULL,
    path          TEXT NOT NULL,
    records       BIGINT NOT NULL,
    bytes         BIGINT NOT NULL,
    hash          BYTEA NOT NULL,
    created_at_ms BIGINT NOT NULL
);

CREATE TABLE store_l4_index (
    key           TEXT PRIMARY KEY NOT NULL,
    archive_id    TEXT NOT NULL REFERENCES store_archives (id),
    version       BIGINT NOT NULL,
    updated_at_ms BIGINT NOT NULL
);

CREATE INDEX store_l4_index_archive ON store_l4_index (archive_id);
CREATE INDEX store_segments_age ON store_segments (created_at_ms);
