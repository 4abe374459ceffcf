-- The search index (crates/service/src/query): what query mode and the top bar's search find.
-- One document per run (its goal, each step's output and error), dataset (its name, file and
-- columns) and agent log line, with the project it belongs to and the page it links to.
-- tsv weighs the title above the body (English stemming); a GIN index serves the matches and
-- ts_rank_cd ranks them.
CREATE TABLE search_documents (
    id            BIGSERIAL PRIMARY KEY,
    key           TEXT NOT NULL UNIQUE,
    kind          TEXT NOT NULL,
    project       TEXT NOT NULL,
    title         TEXT NOT NULL,
    body          TEXT NOT NULL,
    href          TEXT NOT NULL,
    updated_at_ms BIGINT NOT NULL,
    tsv           tsvector GENERATED ALWAYS AS (
        setweight(to_tsvector('english', title), 'A') || setweight(to_tsvector('english', body), 'B')
    ) STORED
);

CREATE INDEX search_documents_project ON search_documents (project);
CREATE INDEX search_documents_tsv ON search_documents USING GIN (tsv);
