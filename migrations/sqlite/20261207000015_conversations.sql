-- The orchestrator panel's chat mode (crates/service/src/chat): each person's conversations
-- with the local model, kept on the server. owner: a user's id, or 'local-operator' when
-- sign-in is off. An answer is written by the server: 'generating' until it is done,
-- stopped (Stop pressed; its text so far kept) or failed.
CREATE TABLE conversations (
    id            TEXT PRIMARY KEY NOT NULL,
    owner         TEXT NOT NULL,
    title         TEXT NOT NULL,
    model         TEXT,
    created_at_ms INTEGER NOT NULL,
    updated_at_ms INTEGER NOT NULL
) STRICT;

CREATE INDEX conversations_owner ON conversations (owner, updated_at_ms);

-- figures: JSON (tokens, time to first token, tokens/s, turns left out of the prompt).
CREATE TABLE conversation_messages (
    conversation_id TEXT NOT NULL REFERENCES conversations (id) ON DELETE CASCADE,
    seq             INTEGER NOT NULL,
    role            TEXT NOT NULL,
    content         TEXT NOT NULL,
    status          TEXT NOT NULL,
    model           TEXT,
    figures         TEXT,
    error           TEXT,
    created_at_ms   INTEGER NOT NULL,
    PRIMARY KEY (conversation_id, seq)
) STRICT;
