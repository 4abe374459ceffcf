-- Capabilities an admin has switched off (crates/auth/src/kill.rs): a row means "off".
CREATE TABLE kill_switches (
    capability TEXT PRIMARY KEY NOT NULL,
    reason     TEXT NOT NULL,
    set_by     TEXT NOT NULL,
    set_at_ms  BIGINT NOT NULL
);
