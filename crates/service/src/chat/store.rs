//! The `conversations` and `conversation_messages` tables, on SQLite or PostgreSQL. Every
//! read and write names the owner: one person's conversations are never another's.

use switchyard_db::{Database, on_pool};
use switchyard_protocol::ChatMode;
use switchyard_protocol::conversation::{
    AnswerFigures, AnswerStatus, ConversationMessage, ConversationSummary,
};

/// Unix milliseconds now.
pub fn now_ms() -> i64 {
    chrono::Utc::now().timestamp_millis()
}

/// Starts conversation `id` of `owner`.
pub async fn create(
    db: &Database,
    id: &str,
    owner: &str,
    title: &str,
    model: Option<&str>,
) -> Result<(), sqlx::Error> {
    const SQL: &str = "INSERT INTO conversations (id, owner, title, model, created_at_ms, \
                       updated_at_ms) VALUES ($1, $2, $3, $4, $5, $5)";
    on_pool!(db, pool => {
        sqlx::query(SQL)
            .bind(id)
            .bind(owner)
            .bind(title)
            .bind(model)
            .bind(now_ms())
            .execute(pool)
            .await?;
    });
    Ok(())
}

/// `owner`'s conversations, most recently used first (at most `limit`).
pub async fn list(
    db: &Database,
    owner: &str,
    limit: i64,
) -> Result<Vec<ConversationSummary>, sqlx::Error> {
    const SQL: &str = "SELECT id, title, updated_at_ms FROM conversations WHERE owner = $1 \
                       ORDER BY updated_at_ms DESC, id DESC LIMIT $2";
    let rows: Vec<(String, String, i64)> = on_pool!(db, pool => {
        sqlx::query_as(SQL).bind(owner).bind(limit).fetch_all(pool).await?
    });
    Ok(rows
        .into_iter()
        .map(|(id, title, updated_at_ms)| ConversationSummary {
            id,
            title,
            updated_at_ms,
        })
        .collect())
}

/// Title and model of `owner`'s conversation `id`; `None` when they have no such one.
pub async fn header(
    db: &Database,
    owner: &str,
    id: &str,
) -> Result<Option<(String, Option<String>)>, sqlx::Error> {
    const SQL: &str = "SELECT title, model FROM conversations WHERE id = $1 AND owner = $2";
    Ok(on_pool!(db, pool => {
        sqlx::query_as(SQL).bind(id).bind(owner).fetch_optional(pool).await?
    }))
}

/// A message as its columns are read.
#[derive(sqlx::FromRow)]
struct MessageRow {
    seq: i64,
    role: String,
    mode: String,
    content: String,
    status: String,
    model: Option<String>,
    figures: Option<String>,
    error: Option<String>,
    run_id: Option<String>,
    created_at_ms: i64,
}

impl From<MessageRow> for ConversationMessage {
    fn from(row: MessageRow) -> Self {
        Self {
            seq: row.seq as u32,
            role: row.role,
            mode: ChatMode::parse(&row.mode).unwrap_or(ChatMode::Chat),
            content: row.content,
            status: AnswerStatus::parse(&row.status).unwrap_or(AnswerStatus::Failed),
            model: row.model,
            figures: row.figures.and_then(|f| serde_json::from_str(&f).ok()),
            error: row.error,
            run_id: row.run_id,
            created_at_ms: row.created_at_ms,
        }
    }
}

/// Conversation `id`'s messages, oldest first.
pub async fn messages(db: &Database, id: &str) -> Result<Vec<ConversationMessage>, sqlx::Error> {
    const SQL: &str = "SELECT seq, role, mode, content, status, model, figures, error, run_id, \
                       created_at_ms FROM conversation_messages WHERE conversation_id = $1 \
                       ORDER BY seq";
    let rows: Vec<MessageRow> = on_pool!(db, pool => {
        sqlx::query_as(SQL).bind(id).fetch_all(pool).await?
    });
    Ok(rows.into_iter().map(ConversationMessage::from).collect())
}

/// Renames `owner`'s conversation `id`; `false` when they have no such one.
pub async fn rename(
    db: &Database,
    owner: &str,
    id: &str,
    title: &str,
) -> Result<bool, sqlx::Error> {
    const SQL: &str = "UPDATE conversations SET title = $3 WHERE id = $1 AND owner = $2";
    Ok(on_pool!(db, pool => {
        sqlx::query(SQL).bind(id).bind(owner).bind(title).execute(pool).await?.rows_affected()
    }) > 0)
}

/// Deletes `owner`'s conversation `id` with its messages; `false` when they have no such one.
pub async fn delete(db: &Database, owner: &str, id: &str) -> Result<bool, sqlx::Error> {
    const MESSAGES: &str = "DELETE FROM conversation_messages WHERE conversation_id IN \
                            (SELECT id FROM conversations WHERE id = $1 AND owner = $2)";
    const CONVERSATION: &str = "DELETE FROM conversations WHERE id = $1 AND owner = $2";
    Ok(on_pool!(db, pool => {
        let mut tx = pool.begin().await?;
        sqlx::query(MESSAGES).bind(id).bind(owner).execute(&mut *tx).await?;
        let deleted = sqlx::query(CONVERSATION).bind(id).bind(owner).execute(&mut *tx).await?.rows_affected();
        tx.commit().await?;
        deleted
    }) > 0)
}

/// A person's message and the answer about to be written to it, as the next two messages of
/// conversation `id`, both in `mode`: answers the answer's `seq`.
pub async fn append_turn(
    db: &Database,
    id: &str,
    mode: ChatMode,
    text: &str,
    model: &str,
) -> Result<u32, sqlx::Error> {
    const NEXT: &str =
        "SELECT COALESCE(MAX(seq), 0) FROM conversation_messages WHERE conversation_id = $1";
    const INSERT: &str = "INSERT INTO conversation_messages (conversation_id, seq, role, mode, \
                          content, status, model, created_at_ms) \
                          VALUES ($1, $2, $3, $4, $5, $6, $7, $8)";
    const TOUCH: &str = "UPDATE conversations SET updated_at_ms = $2 WHERE id = $1";
    let now = now_ms();
    let seq = on_pool!(db, pool => {
        let mut tx = pool.begin().await?;
        // Write first: on SQLite a transaction that reads, then writes, fails at once with
        // "database is locked" when another connection wrote in between.
        sqlx::query(TOUCH).bind(id).bind(now).execute(&mut *tx).await?;
        let last: i64 = sqlx::query_scalar(NEXT).bind(id).fetch_one(&mut *tx).await?;
        for (seq, role, content, status, model) in [
            (last + 1, "user", text, AnswerStatus::Done, None),
            (last + 2, "assistant", "", AnswerStatus::Generating, Some(model)),
        ] {
            sqlx::query(INSERT)
                .bind(id)
                .bind(seq)
                .bind(role)
                .bind(mode.as_str())
                .bind(content)
                .bind(status.as_str())
                .bind(model)
                .bind(now)
                .execute(&mut *tx)
                .await?;
        }
        tx.commit().await?;
        last + 2
    });
    Ok(seq as u32)
}

/// How an answer ended.
#[derive(Debug, Clone)]
pub struct Ended<'a> {
    pub content: &'a str,
    pub status: AnswerStatus,
    pub figures: Option<&'a AnswerFigures>,
    pub error: Option<&'a str>,
    /// A task's answer: the run its goal became.
    pub run_id: Option<&'a str>,
}

/// Records how answer `seq` of conversation `id` ended.
pub async fn finish(
    db: &Database,
    id: &str,
    seq: u32,
    ended: &Ended<'_>,
) -> Result<(), sqlx::Error> {
    const SQL: &str = "UPDATE conversation_messages SET content = $3, status = $4, figures = $5, \
                       error = $6, run_id = $7 WHERE conversation_id = $1 AND seq = $2";
    let figures = ended.figures.and_then(|f| serde_json::to_string(f).ok());
    on_pool!(db, pool => {
        sqlx::query(SQL)
            .bind(id)
            .bind(i64::from(seq))
            .bind(ended.content)
            .bind(ended.status.as_str())
            .bind(figures)
            .bind(ended.error)
            .bind(ended.run_id)
            .execute(pool)
            .await?;
    });
    Ok(())
}
