-- Workflow templates (crates/workflows): a plan with `{{params.NAME}}` inputs and the JSON
-- Schema of its parameters, saved under a name; each save is a new version, older versions
-- stay readable. A template belongs to a project: its runs go there, and only the project's
-- members see it.
CREATE TABLE workflow_templates (
    name          TEXT NOT NULL,
    version       BIGINT NOT NULL,
    project       TEXT NOT NULL,
    description   TEXT NOT NULL,
    params_schema TEXT NOT NULL,
    plan          TEXT NOT NULL,
    created_by    TEXT NOT NULL,
    created_at_ms BIGINT NOT NULL,
    PRIMARY KEY (name, version)
);

-- Which template version started a run.
CREATE TABLE workflow_runs (
    run_id  TEXT PRIMARY KEY NOT NULL,
    name    TEXT NOT NULL,
    version BIGINT NOT NULL
);

CREATE INDEX workflow_runs_name ON workflow_runs (name, run_id);
