//! The search index's tables, on SQLite (FTS5, ranked by bm25) or PostgreSQL (`tsvector`,
//! ranked by `ts_rank_cd`): documents written by key (a second write replaces the first),
//! removed by key, and found by words within a set of projects.

use switchyard_db::{Database, on_pool};
use switchyard_protocol::query::{MARK_CLOSE, MARK_OPEN};

/// One thing to find.
#[derive(Debug, Clone, PartialEq)]
pub struct Document {
    /// `run:ID`, `dataset:ID`, `log:ID`: what a later write replaces.
    pub key: String,
    pub kind: &'static str,
    pub project: String,
    pub title: String,
    pub body: String,
    pub href: String,
}

/// One thing found, its snippet still marked with [`MARK_OPEN`] / [`MARK_CLOSE`].
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Found {
    pub kind: String,
    pub title: String,
    pub href: String,
    pub project: String,
    pub score: f64,
    pub snippet: String,
}

/// Writes `documents` (replacing any with the same key) in one transaction.
pub async fn put(db: &Database, documents: &[Document]) -> Result<(), sqlx::Error> {
    const SQL: &str = "INSERT INTO search_documents (key, kind, project, title, body, href, \
                       updated_at_ms) VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (key) DO \
                       UPDATE SET kind = excluded.kind, project = excluded.project, title = \
                       excluded.title, body = excluded.body, href = excluded.href, \
                       updated_at_ms = excluded.updated_at_ms";
    let now = chrono::Utc::now().timestamp_millis();
    on_pool!(db, pool => {
        let mut tx = pool.begin().await?;
        for d in documents {
            sqlx::query(SQL)
                .bind(&d.key)
                .bind(d.kind)
                .bind(&d.project)
                .bind(&d.title)
                .bind(&d.body)
                .bind(&d.href)
                .bind(now)
                .execute(&mut *tx)
                .await?;
        }
        tx.commit().await?;
    });
    Ok(())
}

/// Removes the document `key`, if there is one.
pub async fn remove(db: &Database, key: &str) -> Result<(), sqlx::Error> {
    on_pool!(db, pool => {
        sqlx::query("DELETE FROM search_documents WHERE key = $1").bind(key).execute(pool).await?;
    });
    Ok(())
}

/// Documents holding every one of `words` (the last one as a prefix: the top bar searches as
/// the person types), in `projects` (`None`: all), best first.
pub async fn find(
    db: &Database,
    words: &[String],
    projects: Option<&[String]>,
    limit: i64,
) -> Result<Vec<Found>, sqlx::Error> {
    if words.is_empty() || projects.is_some_and(<[String]>::is_empty) {
        return Ok(Vec::new());
    }
    let found = match db {
        Database::Sqlite(pool) => {
            // `rank` is bm25 with the title weighing four times the body (the migration sets
            // it): FTS5 orders by it itself, and the snippets are written for the rows kept.
            let mut query = sqlx::QueryBuilder::new(format!(
                "SELECT d.kind, d.title, d.href, d.project, -search_index.rank AS score, \
                 snippet(search_index, -1, char({}), char({}), '…', 16) AS snippet \
                 FROM search_index JOIN search_documents d ON d.id = search_index.rowid \
                 WHERE search_index MATCH ",
                MARK_OPEN as u32, MARK_CLOSE as u32
            ));
            query.push_bind(fts5_query(words));
            in_projects(&mut query, projects, "search_index.project");
            query
                .push(" ORDER BY search_index.rank LIMIT ")
                .push_bind(limit);
            query.build_query_as().fetch_all(pool).await?
        }
        Database::Postgres(pool) => {
            // Ranked and cut first; the headline is written for the few kept.
            let mut query = sqlx::QueryBuilder::new("WITH q AS (SELECT to_tsquery('english', ");
            query.push_bind(tsquery(words));
            query.push(
                ") AS q), best AS (SELECT d.kind, d.title, d.href, d.project, d.body, \
                 ts_rank_cd(d.tsv, q.q)::float8 AS score FROM search_documents d, q \
                 WHERE d.tsv @@ q.q",
            );
            in_projects(&mut query, projects, "d.project");
            query.push(" ORDER BY score DESC LIMIT ").push_bind(limit);
            query.push(format!(
                ") SELECT best.kind, best.title, best.href, best.project, best.score, \
                 ts_headline('english', best.title || E'\\n' || best.body, q.q, \
                 'StartSel=' || chr({}) || ', StopSel=' || chr({}) || ', MaxWords=24, \
                 MinWords=8, MaxFragments=1') AS snippet FROM best, q ORDER BY best.score DESC",
                MARK_OPEN as u32, MARK_CLOSE as u32
            ));
            query.build_query_as().fetch_all(pool).await?
        }
    };
    Ok(found)
}

/// ` AND COLUMN IN (…)` when the caller sees only some projects.
fn in_projects<'a, DB: sqlx::Database>(
    query: &mut sqlx::QueryBuilder<'a, DB>,
    projects: Option<&[String]>,
    column: &str,
) where
    String: sqlx::Encode<'a, DB> + sqlx::Type<DB>,
{
    if let Some(projects) = projects {
        query.push(format!(" AND {column} IN ("));
        let mut names = query.separated(", ");
        for project in projects {
            names.push_bind(project.clone());
        }
        query.push(")");
    }
}

/// `"w1" "w2"*`: every word, the last as a prefix; quoted, so nothing is FTS5 syntax.
fn fts5_query(words: &[String]) -> String {
    let last = words.len() - 1;
    words
        .iter()
        .enumerate()
        .map(|(i, w)| {
            let quoted = format!("\"{}\"", w.replace('"', "\"\""));
            if i == last { quoted + "*" } else { quoted }
        })
        .collect::<Vec<_>>()
        .join(" ")
}

/// `w1 & w2:*` (the words hold letters and digits only, so nothing is tsquery syntax).
fn tsquery(words: &[String]) -> String {
    let last = words.len() - 1;
    words
        .iter()
        .enumerate()
        .map(|(i, w)| {
            if i == last {
                format!("{w}:*")
            } else {
                w.clone()
            }
        })
        .collect::<Vec<_>>()
        .join(" & ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn queries_quote_every_word_and_prefix_the_last() {
        let words = vec!["pump".to_owned(), "fail".to_owned()];
        assert_eq!(fts5_query(&words), "\"pump\" \"fail\"*");
        assert_eq!(tsquery(&words), "pump & fail:*");
    }
}
