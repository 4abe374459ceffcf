//! Server processes ("nodes") sharing one database.
//!
//! Each `switchyard serve` writes a row when it starts and stamps it when it stops cleanly. A
//! row with no `stopped_at` whose `last_seen_at` is old marks a process that died; the
//! orchestrator's lease recovery builds on that.

use sqlx::types::chrono::{DateTime, Utc};

use crate::connect::{postgres_write, sqlite_write};
use crate::{Database, DbError};

/// What a node says about itself when it registers.
#[derive(Debug, Clone)]
pub struct NodeInfo {
    /// Unique per process start (a UUIDv7 string).
    pub id: String,
    pub hostname: String,
    pub version: String,
    pub listen: String,
}

/// One row of the `nodes` table.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct NodeRow {
    pub id: String,
    pub hostname: String,
    pub version: String,
    pub listen: String,
    pub started_at: DateTime<Utc>,
    pub last_seen_at: DateTime<Utc>,
    pub stopped_at: Option<DateTime<Utc>>,
}

/// Records that `node` started now.
pub async fn register(db: &Database, node: &NodeInfo) -> Result<(), DbError> {
    let now = Utc::now();
    match db {
        Database::Sqlite(pool) => {
            let mut tx = sqlite_write(pool).await?;
            sqlx::query(
                "INSERT INTO nodes (id, hostname, version, listen, started_at, last_seen_at) \
                 VALUES (?1, ?2, ?3, ?4, ?5, ?5)",
            )
            .bind(&node.id)
            .bind(&node.hostname)
            .bind(&node.version)
            .bind(&node.listen)
            .bind(now)
            .execute(&mut *tx)
            .await?;
            tx.commit().await?;
        }
        Database::Postgres(pool) => {
            let mut tx = postgres_write(pool).await?;
            sqlx::query(
                "INSERT INTO nodes (id, hostname, version, listen, started_at, last_seen_at) \
                 VALUES ($1, $2, $3, $4, $5, $5)",
            )
            .bind(&node.id)
            .bind(&node.hostname)
            .bind(&node.version)
            .bind(&node.listen)
            .bind(now)
            .execute(&mut *tx)
            .await?;
            tx.commit().await?;
        }
    }
    Ok(())
}

/// Stamps `stopped_at` on a clean shutdown.
pub async fn mark_stopped(db: &Database, node_id: &str) -> Result<(), DbError> {
    let now = Utc::now();
    match db {
        Database::Sqlite(pool) => {
            let mut tx = sqlite_write(pool).await?;
            sqlx::query("UPDATE nodes SET stopped_at = ?1, last_seen_at = ?1 WHERE id = ?2")
                .bind(now)
                .bind(node_id)
                .execute(&mut *tx)
                .await?;
            tx.commit().await?;
        }
        Database::Postgres(pool) => {
            let mut tx = postgres_write(pool).await?;
            sqlx::query("UPDATE nodes SET stopped_at = $1, last_seen_at = $1 WHERE id = $2")
                .bind(now)
                .bind(node_id)
                .execute(&mut *tx)
                .await?;
            tx.commit().await?;
        }
    }
    Ok(())
}

/// Every node row, newest start first.
pub async fn list(db: &Database) -> Result<Vec<NodeRow>, DbError> {
    const SQL: &str = "SELECT id, hostname, version, listen, started_at, last_seen_at, stopped_at \
                       FROM nodes ORDER BY started_at DESC";
    Ok(match db {
        Database::Sqlite(pool) => sqlx::query_as(SQL).fetch_all(pool).await?,
        Database::Postgres(pool) => sqlx::query_as(SQL).fetch_all(pool).await?,
    })
}
