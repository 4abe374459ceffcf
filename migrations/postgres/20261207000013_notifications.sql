-- The notifications bell (crates/service/src/notifications): what reached each person —
-- a step waiting for their approval, a run that failed, a run they started that finished —
-- kept on the server so it survives a reload and shows on every device. One row per
-- recipient, kind, run and step: an event seen twice (two servers, a replay) notifies once.
-- recipient: a user's id, or 'local-operator' when sign-in is off.
CREATE TABLE notifications (
    id            TEXT PRIMARY KEY NOT NULL,
    recipient     TEXT NOT NULL,
    kind          TEXT NOT NULL,
    run_id        TEXT NOT NULL,
    step          TEXT NOT NULL,
    project       TEXT NOT NULL,
    title         TEXT NOT NULL,
    created_at_ms BIGINT NOT NULL,
    read_at_ms    BIGINT,
    UNIQUE (recipient, kind, run_id, step)
);

CREATE INDEX notifications_recipient ON notifications (recipient, id);
