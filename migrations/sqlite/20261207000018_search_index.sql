-- The search index (crates/service/src/query): what query mode and the top bar's search find.
-- One document per run (its goal, each step's output and error), dataset (its name, file and
-- columns) and agent log line, with the project it belongs to and the page it links to.
-- search_index is an FTS5 index over title and body (Porter stemming), kept in step with
-- search_documents by the triggers below; bm25 ranks what it finds, the title weighing four
-- times the body (its `rank`, so that `ORDER BY rank LIMIT n` is done inside FTS5 and the
-- snippets are written for the rows kept only). project is stored unindexed so that a
-- caller's projects are filtered without a join.
CREATE TABLE search_documents (
    id            INTEGER PRIMARY KEY,
    key           TEXT NOT NULL UNIQUE,
    kind          TEXT NOT NULL,
    project       TEXT NOT NULL,
    title         TEXT NOT NULL,
    body          TEXT NOT NULL,
    href          TEXT NOT NULL,
    updated_at_ms INTEGER NOT NULL
) STRICT;

CREATE INDEX search_documents_project ON search_documents (project);

CREATE VIRTUAL TABLE search_index USING fts5(
    title, body, project UNINDEXED, content = 'search_documents', content_rowid = 'id',
    tokenize = 'porter unicode61'
);

INSERT INTO search_index (search_index, rank) VALUES ('rank', 'bm25(4.0, 1.0, 0.0)');

CREATE TRIGGER search_documents_added AFTER INSERT ON search_documents BEGIN
    INSERT INTO search_index (rowid, title, body, project)
    VALUES (new.id, new.title, new.body, new.project);
END;

CREATE TRIGGER search_documents_removed AFTER DELETE ON search_documents BEGIN
    INSERT INTO search_index (search_index, rowid, title, body, project)
    VALUES ('delete', old.id, old.title, old.body, old.project);
END;

CREATE TRIGGER search_documents_changed AFTER UPDATE ON search_documents BEGIN
    INSERT INTO search_index (search_index, rowid, title, body, project)
    VALUES ('delete', old.id, old.title, old.body, old.project);
    INSERT INTO search_index (rowid, title, body, project)
    VALUES (new.id, new.title, new.body, new.project);
END;
