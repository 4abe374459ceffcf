-- The tiered store's time series (crates/store/src/series.rs): every point is folded into
-- buckets of 1 s, 1 min and 1 h as it is appended, so a query at any step reads a bounded
-- number of rows.
CREATE TABLE store_series (
    series       TEXT NOT NULL,
    resolution_s INTEGER NOT NULL,
    bucket_ms    INTEGER NOT NULL,
    count        INTEGER NOT NULL,
    sum          REAL NOT NULL,
    min          REAL NOT NULL,
    max          REAL NOT NULL,
    last         REAL NOT NULL,
    last_at_ms   INTEGER NOT NULL,
    PRIMARY KEY (series, resolution_s, bucket_ms)
) STRICT;
