-- The tiered store's L2 tier (crates/store/src/l2.rs): key-value records with their version
-- and the BLAKE3 hash of their value, checked on every read.
CREATE TABLE store_records (
    key           TEXT PRIMARY KEY NOT NULL,
    value         BLOB NOT NULL,
    version       INTEGER NOT NULL,
    hash          BLOB NOT NULL,
    updated_at_ms INTEGER NOT NULL
) STRICT;
