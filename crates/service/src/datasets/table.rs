//! The `datasets` table, on SQLite or PostgreSQL: one row per dataset (its rows live in the
//! tiered store). Listing names the projects the caller sees; nothing else filters.

use switchyard_db::{Database, on_pool};
use switchyard_protocol::dataset::{DatasetColumn, DatasetStatus, DatasetView, Format, Scores};

use crate::chat::store::now_ms;

/// A row of `datasets` as read.
#[derive(sqlx::FromRow)]
struct Row {
    id: String,
    project: String,
    name: String,
    status: String,
    format: String,
    file_name: Option<String>,
    bytes: i64,
    rows_total: i64,
    rows_written: i64,
    rows_skipped: i64,
    columns: String,
    scores: String,
    key_column: Option<String>,
    created_by: String,
    created_at_ms: i64,
    updated_at_ms: i64,
    error: Option<String>,
}

const COLUMNS: &str = "id, project, name, status, format, file_name, bytes, rows_total, \
                       rows_written, rows_skipped, columns, scores, key_column, created_by, \
                       created_at_ms, updated_at_ms, error";

fn view(row: Row) -> DatasetView {
    DatasetView {
        id: row.id,
        project: row.project,
        name: row.name,
        status: DatasetStatus::parse(&row.status).unwrap_or(DatasetStatus::Failed),
        format: Format::parse(&row.format).unwrap_or(Format::Csv),
        file_name: row.file_name,
        bytes: row.bytes as u64,
        rows: row.rows_total as u64,
        rows_written: row.rows_written as u64,
        rows_skipped: row.rows_skipped as u64,
        columns: serde_json::from_str::<Vec<DatasetColumn>>(&row.columns).unwrap_or_default(),
        scores: serde_json::from_str(&row.scores).unwrap_or(Scores {
            completeness: 0.0,
            validity: 0.0,
            uniqueness: 0.0,
        }),
        key: row.key_column,
        created_by: row.created_by,
        created_at_ms: row.created_at_ms,
        updated_at_ms: row.updated_at_ms,
        error: row.error,
    }
}

/// Records `dataset` (status writing) as written by `node`; `Ok(false)` when its project
/// already has a dataset of that name.
pub async fn insert(db: &Database, dataset: &DatasetView, node: &str) -> Result<bool, sqlx::Error> {
    const SQL: &str = "INSERT INTO datasets (id, project, name, status, format, file_name, bytes, \
                       rows_total, rows_written, rows_skipped, columns, scores, key_column, \
                       created_by, node, created_at_ms, updated_at_ms) VALUES ($1, $2, $3, $4, \
                       $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $16) \
                       ON CONFLICT (project, name) DO NOTHING";
    let columns = serde_json::to_string(&dataset.columns).expect("columns serialize");
    let scores = serde_json::to_string(&dataset.scores).expect("scores serialize");
    let done = on_pool!(db, pool => {
        sqlx::query(SQL)
            .bind(&dataset.id)
            .bind(&dataset.project)
            .bind(&dataset.name)
            .bind(dataset.status.as_str())
            .bind(dataset.format.as_str())
            .bind(&dataset.file_name)
            .bind(dataset.bytes as i64)
            .bind(dataset.rows as i64)
            .bind(dataset.rows_written as i64)
            .bind(dataset.rows_skipped as i64)
            .bind(&columns)
            .bind(&scores)
            .bind(&dataset.key)
            .bind(&dataset.created_by)
            .bind(node)
            .bind(dataset.created_at_ms)
            .execute(pool)
            .await?
            .rows_affected()
    });
    Ok(done == 1)
}

/// Dataset `id`, whatever its project.
pub async fn get(db: &Database, id: &str) -> Result<Option<DatasetView>, sqlx::Error> {
    let sql = format!("SELECT {COLUMNS} FROM datasets WHERE id = $1");
    let row: Option<Row> = on_pool!(db, pool => {
        sqlx::query_as(&sql).bind(id).fetch_optional(pool).await?
    });
    Ok(row.map(view))
}

/// Datasets in `projects` (`None`: all), newest first, whose name or file name contains
/// `text` (lower case; any case matches).
pub async fn list(
    db: &Database,
    projects: Option<&[String]>,
    text: Option<&str>,
    limit: i64,
) -> Result<Vec<DatasetView>, sqlx::Error> {
    if projects.is_some_and(<[String]>::is_empty) {
        return Ok(Vec::new());
    }
    let rows: Vec<Row> = on_pool!(db, pool => {
        let mut query = sqlx::QueryBuilder::new(format!("SELECT {COLUMNS} FROM datasets WHERE 1 = 1"));
        if let Some(projects) = projects {
            query.push(" AND project IN (");
            let mut names = query.separated(", ");
            for project in projects {
                names.push_bind(project.clone());
            }
            query.push(")");
        }
        if let Some(text) = text {
            let pattern = format!("%{}%", escape_like(text));
            query
                .push(" AND (LOWER(name) LIKE ")
                .push_bind(pattern.clone())
                .push(" ESCAPE '\\' OR LOWER(COALESCE(file_name, '')) LIKE ")
                .push_bind(pattern)
                .push(" ESCAPE '\\')");
        }
        query.push(" ORDER BY created_at_ms DESC, id DESC LIMIT ").push_bind(limit);
        query.build_query_as().fetch_all(pool).await?
    });
    Ok(rows.into_iter().map(view).collect())
}

/// `%`, `_` and `\` as literals in a LIKE pattern (escaped with `\`).
fn escape_like(text: &str) -> String {
    text.replace('\\', "\\\\")
        .replace('%', "\\%")
        .replace('_', "\\_")
}

/// How far the writing of `id` has come.
pub async fn progress(db: &Database, id: &str, rows_written: u64) -> Result<(), sqlx::Error> {
    const SQL: &str = "UPDATE datasets SET rows_written = $2, updated_at_ms = $3 WHERE id = $1";
    on_pool!(db, pool => {
        sqlx::query(SQL).bind(id).bind(rows_written as i64).bind(now_ms()).execute(pool).await?;
    });
    Ok(())
}

/// The end of writing `id`: ready (with `rows_written`), or failed with `error`.
pub async fn finish(
    db: &Database,
    id: &str,
    rows_written: u64,
    error: Option<&str>,
) -> Result<(), sqlx::Error> {
    const SQL: &str = "UPDATE datasets SET status = $2, rows_written = $3, error = $4, \
                       updated_at_ms = $5 WHERE id = $1";
    let status = match error {
        None => DatasetStatus::Ready,
        Some(_) => DatasetStatus::Failed,
    };
    on_pool!(db, pool => {
        sqlx::query(SQL)
            .bind(id)
            .bind(status.as_str())
            .bind(rows_written as i64)
            .bind(error)
            .bind(now_ms())
            .execute(pool)
            .await?;
    });
    Ok(())
}

/// Datasets `node` was writing when it stopped: marked failed; their ids (to remove their
/// rows).
pub async fn fail_unfinished(db: &Database, node: &str) -> Result<Vec<String>, sqlx::Error> {
    const FIND: &str = "SELECT id FROM datasets WHERE node = $1 AND status = 'writing'";
    const FAIL: &str = "UPDATE datasets SET status = 'failed', rows_written = 0, error = $2, \
                        updated_at_ms = $3 WHERE node = $1 AND status = 'writing'";
    let reason = "the server stopped while writing it; send the file again";
    let ids: Vec<(String,)> = on_pool!(db, pool => {
        let ids = sqlx::query_as(FIND).bind(node).fetch_all(pool).await?;
        sqlx::query(FAIL).bind(node).bind(reason).bind(now_ms()).execute(pool).await?;
        ids
    });
    Ok(ids.into_iter().map(|(id,)| id).collect())
}

/// Removes dataset `id`'s row.
pub async fn delete(db: &Database, id: &str) -> Result<(), sqlx::Error> {
    on_pool!(db, pool => {
        sqlx::query("DELETE FROM datasets WHERE id = $1").bind(id).execute(pool).await?;
    });
    Ok(())
}
