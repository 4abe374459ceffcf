-- Projects (crates/auth/src/projects.rs): runs and API keys belong to one; users see the
-- projects they are members of (admins see all). Runs made before projects existed, and runs
-- whose submitter names none, belong to 'default'.
CREATE TABLE projects (
    name          TEXT PRIMARY KEY NOT NULL,
    created_by    TEXT NOT NULL,
    created_at_ms INTEGER NOT NULL
) STRICT;

INSERT INTO projects (name, created_by, created_at_ms) VALUES ('default', 'migration', 0);

CREATE TABLE project_members (
    project TEXT NOT NULL REFERENCES projects (name),
    user_id TEXT NOT NULL REFERENCES users (id),
    PRIMARY KEY (project, user_id)
) STRICT;

CREATE INDEX project_members_user ON project_members (user_id);

-- Users before projects existed were members of everything there was.
INSERT INTO project_members (project, user_id) SELECT 'default', id FROM users;

ALTER TABLE runs ADD COLUMN project TEXT NOT NULL DEFAULT 'default';
CREATE INDEX runs_project ON runs (project, id);
