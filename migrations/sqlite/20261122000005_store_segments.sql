-- The tiered store's L3 tier (crates/store/src/l3.rs): segments are zstd-compressed JSONL
-- objects in the object store; these tables are their index. A record is in L3 when
-- store_l3_index names a segment holding it; the segment's hash covers the whole object.
CREATE TABLE store_segments (
    id            TEXT PRIMARY KEY NOT NULL,
    path          TEXT NOT NULL,
    records       INTEGER NOT NULL,
    bytes         INTEGER NOT NULL,
    hash          BLOB NOT NULL,
    created_at_ms INTEGER NOT NULL
) STRICT;

CREATE TABLE store_l3_index (
    key           TEXT PRIMARY KEY NOT NULL,
    segment_id    TEXT NOT NULL REFERENCES store_segments (id),
    version       INTEGER NOT NULL,
    updated_at_ms INTEGER NOT NULL
) STRICT;

CREATE INDEX store_l3_index_segment ON store_l3_index (segment_id);
CREATE INDEX store_records_age ON store_records (updated_at_ms);
