-- The orchestrator panel's task mode (crates/service/src/chat/tasks.rs): a person's message
-- may be a goal, and its answer the run the goal became. mode: 'chat' or 'task'; run_id: the
-- run of a task's answer (also a run whose planning failed).
ALTER TABLE conversation_messages ADD COLUMN mode TEXT NOT NULL DEFAULT 'chat';
ALTER TABLE conversation_messages ADD COLUMN run_id TEXT;
