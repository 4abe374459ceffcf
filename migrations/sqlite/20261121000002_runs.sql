-- Runs, their steps and their event logs (crates/orchestrator/src/store).
-- run_events is the source of truth; runs.state and run_steps are the cached fold of it,
-- written in the same transaction as the events they follow from.
CREATE TABLE runs (
    id         TEXT PRIMARY KEY NOT NULL,
    status     TEXT NOT NULL,
    priority   INTEGER NOT NULL,
    last_seq   INTEGER NOT NULL,
    reason     TEXT,
    state      TEXT NOT NULL,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL
) STRICT;

CREATE INDEX runs_unfinished ON runs (priority DESC, created_at)
    WHERE status IN ('queued', 'running', 'paused', 'awaiting_approval', 'compensating');

CREATE TABLE run_steps (
    run_id           TEXT NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
    key              TEXT NOT NULL,
    status           TEXT NOT NULL,
    priority         INTEGER NOT NULL,
    attempt          INTEGER NOT NULL,
    not_before       TEXT,
    lease_owner      TEXT,
    lease_expires_at TEXT,
    fencing_token    INTEGER,
    PRIMARY KEY (run_id, key)
) STRICT;

-- What a claim looks for, and what lease recovery looks for.
CREATE INDEX run_steps_ready ON run_steps (priority DESC, not_before) WHERE status = 'ready';
CREATE INDEX run_steps_leased ON run_steps (lease_expires_at) WHERE status = 'leased';

CREATE TABLE run_events (
    run_id  TEXT NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
    seq     INTEGER NOT NULL,
    at      TEXT NOT NULL,
    kind    TEXT NOT NULL,
    payload TEXT NOT NULL,
    PRIMARY KEY (run_id, seq)
) STRICT;
