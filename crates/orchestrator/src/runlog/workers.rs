//! Engines sharing one database, and which of them owns each unfinished run.
//!
//! An engine registers a row in `workers` and renews it by heartbeat. It owns the runs whose
//! `runs.owner` names it; while its row is alive nobody else writes those runs' decisions
//! (its commits are fenced on `owner`, see [`super::RunChange::owner`]). A run whose owner is
//! NULL or whose owner's row has lapsed is claimable: on PostgreSQL with
//! `UPDATE … WHERE id IN (SELECT … FOR UPDATE SKIP LOCKED)`, so two engines claiming at
//! once never take the same run and never wait on each other; on SQLite (one process) the
//! same statement without the locking clause.

use chrono::{DateTime, Utc};
use switchyard_db::Database;

use super::{RunLog, RunLogError, notify};

/// A run nobody alive owns (`runs` names the table or its alias). Written without a join, so
/// that PostgreSQL, re-checking a row another claimer changed meanwhile (`FOR UPDATE` sees
/// the newest version), re-checks the owner too: with a join it kept the stale, empty owner
/// it had joined on, and two engines could claim one run (seen in the sharing test). The
/// outer `UPDATE` checks again, for the same reason.
fn claimable(runs: &str) -> String {
    format!(
        "{runs}.status IN ('queued', 'running', 'paused', 'awaiting_approval', 'compensating') \
         AND ({runs}.owner IS NULL OR NOT EXISTS \
              (SELECT 1 FROM workers w WHERE w.id = {runs}.owner AND w.expires_at_ms >= $2))"
    )
}

fn millis(at: DateTime<Utc>) -> i64 {
    at.timestamp_millis()
}

impl RunLog {
    /// Registers or renews `worker` until `expires_at`.
    pub async fn heartbeat(
        &self,
        worker: &str,
        now: DateTime<Utc>,
        expires_at: DateTime<Utc>,
    ) -> Result<(), RunLogError> {
        const SQL: &str = "INSERT INTO workers (id, started_at_ms, heartbeat_at_ms, expires_at_ms) \
             VALUES ($1, $2, $2, $3) ON CONFLICT (id) DO UPDATE \
             SET heartbeat_at_ms = excluded.heartbeat_at_ms, expires_at_ms = excluded.expires_at_ms";
        on_pool!(&self.db, pool => {
            sqlx::query(SQL)
                .bind(worker)
                .bind(millis(now))
                .bind(millis(expires_at))
                .execute(pool)
                .await?;
        });
        Ok(())
    }

    /// Declares every other worker dead: for a SQLite database, which one process uses at a
    /// time, so whoever ran before this engine has stopped or crashed.
    pub async fn retire_others(&self, worker: &str) -> Result<u64, RunLogError> {
        const SQL: &str = "DELETE FROM workers WHERE id <> $1";
        Ok(on_pool!(&self.db, pool => {
            sqlx::query(SQL).bind(worker).execute(pool).await?.rows_affected()
        }))
    }

    /// Gives up `worker`'s runs and removes its row; on PostgreSQL tells the other engines.
    pub async fn retire(&self, worker: &str) -> Result<(), RunLogError> {
        const RELEASE: &str = "UPDATE runs SET owner = NULL WHERE owner = $1";
        const DELETE: &str = "DELETE FROM workers WHERE id = $1";
        match &self.db {
            Database::Sqlite(pool) => {
                let mut tx = switchyard_db::connect::sqlite_write(pool).await?;
                sqlx::query(RELEASE).bind(worker).execute(&mut *tx).await?;
                sqlx::query(DELETE).bind(worker).execute(&mut *tx).await?;
                tx.commit().await?;
            }
            Database::Postgres(pool) => {
                let mut tx = switchyard_db::connect::postgres_write(pool).await?;
                sqlx::query(RELEASE).bind(worker).execute(&mut *tx).await?;
                sqlx::query(DELETE).bind(worker).execute(&mut *tx).await?;
                sqlx::query("SELECT pg_notify($1, $2)")
                    .bind(notify::CHANNEL)
                    .bind(notify::release(worker))
                    .execute(&mut *tx)
                    .await?;
                tx.commit().await?;
            }
        }
        Ok(())
    }

    /// Takes up to `limit` claimable runs for `worker`, highest priority and oldest first.
    pub async fn claim(
        &self,
        worker: &str,
        now: DateTime<Utc>,
        limit: usize,
    ) -> Result<Vec<String>, RunLogError> {
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        // SQLite has one writer at a time and no row locks to skip.
        let locking = match &self.db {
            Database::Sqlite(_) => "",
            Database::Postgres(_) => " FOR UPDATE SKIP LOCKED",
        };
        let sql = format!(
            "UPDATE runs SET owner = $1 WHERE id IN (SELECT r.id FROM runs r \
             WHERE {} ORDER BY r.priority DESC, r.created_at LIMIT $3{locking}) \
             AND {} RETURNING id",
            claimable("r"),
            claimable("runs"),
        );
        Ok(on_pool!(&self.db, pool => {
            sqlx::query_scalar(&sql)
                .bind(worker)
                .bind(millis(now))
                .bind(limit)
                .fetch_all(pool)
                .await?
        }))
    }

    /// The run that started run `run_id` with its `subrun` step, if one did, and the runs
    /// that run `run_id`'s own `subrun` steps started (at most 100, oldest first): both read
    /// from the `subrun:PARENT:STEP` idempotency keys those children are created with.
    pub async fn family(&self, run_id: &str) -> Result<(Option<String>, Vec<String>), RunLogError> {
        const KEY: &str = "SELECT idempotency_key FROM runs WHERE id = $1";
        // A range on the key rather than LIKE, so the unique index serves it (':' + 1 = ';').
        const CHILDREN: &str = "SELECT id FROM runs WHERE idempotency_key >= $1 \
                                AND idempotency_key < $2 ORDER BY id LIMIT 100";
        let (from, to) = (format!("subrun:{run_id}:"), format!("subrun:{run_id};"));
        let key: Option<Option<String>> = on_pool!(&self.db, pool => {
            sqlx::query_scalar(KEY).bind(run_id).fetch_optional(pool).await?
        });
        let children: Vec<String> = on_pool!(&self.db, pool => {
            sqlx::query_scalar(CHILDREN).bind(&from).bind(&to).fetch_all(pool).await?
        });
        let parent = key
            .flatten()
            .and_then(|key| key.strip_prefix("subrun:").map(str::to_owned))
            .and_then(|rest| rest.split(':').next().map(str::to_owned));
        Ok((parent, children))
    }

    /// The run created with this idempotency key, if any.
    pub async fn find_by_idempotency_key(&self, key: &str) -> Result<Option<String>, RunLogError> {
        const SQL: &str = "SELECT id FROM runs WHERE idempotency_key = $1";
        Ok(match &self.db {
            Database::Sqlite(pool) => {
                sqlx::query_scalar(SQL)
                    .bind(key)
                    .fetch_optional(pool)
                    .await?
            }
            Database::Postgres(pool) => {
                sqlx::query_scalar(SQL)
                    .bind(key)
                    .fetch_optional(pool)
                    .await?
            }
        })
    }

    /// `(run_id, owner)` of every unfinished run: who holds what, for tests and operators.
    pub async fn owners(&self) -> Result<Vec<(String, Option<String>)>, RunLogError> {
        const SQL: &str = "SELECT id, owner FROM runs \
             WHERE status IN ('queued', 'running', 'paused', 'awaiting_approval', 'compensating') \
             ORDER BY id";
        Ok(on_pool!(&self.db, pool => sqlx::query_as(SQL).fetch_all(pool).await?))
    }
}
