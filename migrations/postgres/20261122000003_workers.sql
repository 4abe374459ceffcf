-- Engines sharing this database, and which of them owns each unfinished run
-- (crates/orchestrator/src/store/workers.rs). An engine owns a run while its row here is
-- alive (expires_at_ms in the future, renewed by heartbeat); a run whose owner is NULL or
-- dead may be claimed by any engine. Times are milliseconds since the epoch, compared in SQL
-- the same way on both backends.
CREATE TABLE workers (
    id              TEXT PRIMARY KEY NOT NULL,
    started_at_ms   BIGINT NOT NULL,
    heartbeat_at_ms BIGINT NOT NULL,
    expires_at_ms   BIGINT NOT NULL
);

ALTER TABLE runs ADD COLUMN owner TEXT;
-- runs.state is a snapshot of the fold at state_seq, rewritten every few dozen events and when
-- the run ends, not on every commit; readers fold the events after it.
ALTER TABLE runs ADD COLUMN state_seq BIGINT NOT NULL DEFAULT 0;
-- A client's key for "create this run once" (the API's Idempotency-Key, the subrun tool).
ALTER TABLE runs ADD COLUMN idempotency_key TEXT;
CREATE UNIQUE INDEX runs_idempotency_key ON runs (idempotency_key)
    WHERE idempotency_key IS NOT NULL;
