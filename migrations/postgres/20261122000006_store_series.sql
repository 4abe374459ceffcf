-- The tiered store's time series (crates/store/src/series.rs): every point is folded into
-- buckets of 1 s, 1 min and 1 h as it is appended, so a query at any step reads a bounded
-- number of rows.
CREATE TABLE store_series (
    series       TEXT NOT NULL,
    resolution_s BIGINT NOT NULL,
    bucket_ms    BIGINT NOT NULL,
    count        BIGINT NOT NULL,
    sum          DOUBLE PRECISION NOT NULL,
    min          DOUBLE PRECISION NOT NULL,
    max          DOUBLE PRECISION NOT NULL,
    last         DOUBLE PRECISION NOT NULL,
    last_at_ms   BIGINT NOT NULL,
    PRIMARY KEY (series, resolution_s, bucket_ms)
);
