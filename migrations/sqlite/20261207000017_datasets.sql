-- The orchestrator panel's data mode (crates/service/src/datasets): tables checked, confirmed
-- by a person, and written into the tiered store under `datasets/{id}/rows/{chunk}` (1,000
-- rows a record, JSON lines). This table lists them: status 'writing' (rows_written of rows_total
-- so far), 'ready' or 'failed' (error says why; no rows kept). columns and scores: JSON.
-- node: the process that writes it (a restart fails what it left unfinished).
CREATE TABLE datasets (
    id            TEXT PRIMARY KEY NOT NULL,
    project       TEXT NOT NULL,
    name          TEXT NOT NULL,
    status        TEXT NOT NULL,
    format        TEXT NOT NULL,
    file_name     TEXT,
    bytes         INTEGER NOT NULL,
    rows_total    INTEGER NOT NULL,
    rows_written  INTEGER NOT NULL,
    rows_skipped  INTEGER NOT NULL,
    columns       TEXT NOT NULL,
    scores        TEXT NOT NULL,
    key_column    TEXT,
    created_by    TEXT NOT NULL,
    node          TEXT NOT NULL,
    created_at_ms INTEGER NOT NULL,
    updated_at_ms INTEGER NOT NULL,
    error         TEXT,
    UNIQUE (project, name)
) STRICT;

CREATE INDEX datasets_newest ON datasets (updated_at_ms);
