//! The `notifications` table, on SQLite or PostgreSQL, and who may hear of a project's runs.

use switchyard_db::{Database, on_pool};
use switchyard_protocol::Notification;

/// A notification to record.
#[derive(Debug, Clone)]
pub struct NewNotification<'a> {
    pub recipient: &'a str,
    pub kind: &'a str,
    pub run_id: &'a str,
    pub step: &'a str,
    pub project: &'a str,
    pub title: &'a str,
}

#[derive(sqlx::FromRow)]
struct Row {
    id: String,
    kind: String,
    run_id: String,
    step: String,
    project: String,
    title: String,
    created_at_ms: i64,
    read_at_ms: Option<i64>,
}

fn now_ms() -> i64 {
    chrono::Utc::now().timestamp_millis()
}

/// Records `new` unless the recipient already has the same kind for the same run and step;
/// `true` when it was new.
pub async fn insert(db: &Database, new: &NewNotification<'_>) -> Result<bool, sqlx::Error> {
    const SQL: &str = "INSERT INTO notifications (id, recipient, kind, run_id, step, project, \
                       title, created_at_ms) VALUES ($1, $2, $3, $4, $5, $6, $7, $8) \
                       ON CONFLICT (recipient, kind, run_id, step) DO NOTHING";
    let id = uuid::Uuid::now_v7().to_string();
    let affected = on_pool!(db, pool => {
        sqlx::query(SQL)
            .bind(&id)
            .bind(new.recipient)
            .bind(new.kind)
            .bind(new.run_id)
            .bind(new.step)
            .bind(new.project)
            .bind(new.title)
            .bind(now_ms())
            .execute(pool)
            .await?
            .rows_affected()
    });
    Ok(affected > 0)
}

/// `recipient`'s newest notifications (at most `limit`) and how many are unread.
pub async fn newest(
    db: &Database,
    recipient: &str,
    limit: i64,
) -> Result<(Vec<Notification>, i64), sqlx::Error> {
    const LIST: &str = "SELECT id, kind, run_id, step, project, title, created_at_ms, \
                        read_at_ms FROM notifications WHERE recipient = $1 \
                        ORDER BY id DESC LIMIT $2";
    const UNREAD: &str =
        "SELECT COUNT(*) FROM notifications WHERE recipient = $1 AND read_at_ms IS NULL";
    let rows: Vec<Row> = on_pool!(db, pool => sqlx::query_as(LIST).bind(recipient).bind(limit).fetch_all(pool).await)?;
    let unread: i64 =
        on_pool!(db, pool => sqlx::query_scalar(UNREAD).bind(recipient).fetch_one(pool).await)?;
    let items = rows
        .into_iter()
        .map(|r| Notification {
            id: r.id,
            kind: r.kind,
            run_id: r.run_id,
            step: r.step,
            project: r.project,
            title: r.title,
            created_at_ms: r.created_at_ms,
            read: r.read_at_ms.is_some(),
        })
        .collect();
    Ok((items, unread))
}

/// Marks `recipient`'s notifications `ids` read (all of them when `ids` is empty); another
/// recipient's ids are left alone. Returns how many changed.
pub async fn mark_read(db: &Database, recipient: &str, ids: &[String]) -> Result<u64, sqlx::Error> {
    let now = now_ms();
    if ids.is_empty() {
        const ALL: &str = "UPDATE notifications SET read_at_ms = $1 \
                           WHERE recipient = $2 AND read_at_ms IS NULL";
        return Ok(
            on_pool!(db, pool => sqlx::query(ALL).bind(now).bind(recipient).execute(pool).await?.rows_affected()),
        );
    }
    const ONE: &str = "UPDATE notifications SET read_at_ms = $1 \
                       WHERE recipient = $2 AND id = $3 AND read_at_ms IS NULL";
    let mut changed = 0;
    for id in ids {
        changed += on_pool!(db, pool => sqlx::query(ONE).bind(now).bind(recipient).bind(id).execute(pool).await?.rows_affected());
    }
    Ok(changed)
}

/// The ids of the project's members.
pub async fn members(db: &Database, project: &str) -> Result<Vec<String>, sqlx::Error> {
    const SQL: &str = "SELECT user_id FROM project_members WHERE project = $1";
    on_pool!(db, pool => sqlx::query_scalar(SQL).bind(project).fetch_all(pool).await)
}

/// Marks read the unread `approval_waiting` notifications of run `run_id` (of its step `step`
/// only, when given): someone decided, or the run ended. Returns whose bells changed.
pub async fn settle_approvals(
    db: &Database,
    run_id: &str,
    step: Option<&str>,
) -> Result<Vec<String>, sqlx::Error> {
    const WHO: &str = "SELECT DISTINCT recipient FROM notifications WHERE kind = 'approval_waiting' \
                       AND run_id = $1 AND ($2 = '' OR step = $2) AND read_at_ms IS NULL";
    const SETTLE: &str = "UPDATE notifications SET read_at_ms = $3 WHERE kind = 'approval_waiting' \
                          AND run_id = $1 AND ($2 = '' OR step = $2) AND read_at_ms IS NULL";
    let step = step.unwrap_or("");
    let recipients: Vec<String> = on_pool!(db, pool => sqlx::query_scalar(WHO).bind(run_id).bind(step).fetch_all(pool).await)?;
    if !recipients.is_empty() {
        on_pool!(db, pool => {
            sqlx::query(SETTLE).bind(run_id).bind(step).bind(now_ms()).execute(pool).await?;
        });
    }
    Ok(recipients)
}
