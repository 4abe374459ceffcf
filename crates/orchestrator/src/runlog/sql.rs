//! The store's SQL, written once and compiled for both backends.
//!
//! Every statement uses `$N` placeholders, which sqlx accepts for SQLite and PostgreSQL alike,
//! and only types both map the same way. `for_backend!` instantiates the functions for each
//! pool type, so the two backends cannot drift apart.

use chrono::{DateTime, SubsecRound, Utc};
use serde_json::Value;
use sqlx::types::Json;

use super::{RunChange, RunLogError};
use crate::state::RunState;
#[cfg(test)]
use crate::status::RunStatus;

/// One `run_steps` row. Timestamps are kept to microseconds, PostgreSQL's precision.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StepRow {
    pub key: String,
    pub status: String,
    pub priority: i32,
    pub attempt: i32,
    pub not_before: Option<DateTime<Utc>>,
    pub lease_owner: Option<String>,
    pub lease_expires_at: Option<DateTime<Utc>>,
    pub fencing_token: Option<i64>,
}

/// An event's payload as stored: `{"at": …, "event": {"kind": …, …}}`.
#[derive(serde::Serialize)]
struct StoredEvent<'a> {
    at: DateTime<Utc>,
    event: &'a crate::event::EventKind,
}

/// One `runs` row without its state.
pub(super) type RunRow = (
    String,
    String,
    i32,
    i64,
    Option<String>,
    DateTime<Utc>,
    DateTime<Utc>,
    String,
    Option<String>,
);

type StepTuple = (
    String,
    String,
    i32,
    i32,
    Option<DateTime<Utc>>,
    Option<String>,
    Option<DateTime<Utc>>,
    Option<i64>,
);

/// The rows `state` implies for `run_steps`, in key order.
pub fn step_rows(state: &RunState) -> Vec<StepRow> {
    let mut rows: Vec<StepRow> = state
        .steps
        .iter()
        .map(|s| StepRow {
            key: s.key.clone(),
            status: s.status.as_str().to_owned(),
            priority: state.priority,
            attempt: s.attempt as i32,
            not_before: s.not_before.map(|t| t.trunc_subsecs(6)),
            lease_owner: s.lease.as_ref().map(|l| l.worker.clone()),
            lease_expires_at: s.lease.as_ref().map(|l| l.expires_at.trunc_subsecs(6)),
            fencing_token: s.lease.as_ref().map(|l| l.fencing_token as i64),
        })
        .collect();
    rows.sort_by(|a, b| a.key.cmp(&b.key));
    rows
}

/// Rows per multi-row statement, times their columns, stay under SQLite's limit of 32,766
/// parameters (PostgreSQL allows 65,535).
const ROWS_PER_STATEMENT: usize = 32_000;

fn conflict(change: &RunChange) -> RunLogError {
    RunLogError::Conflict {
        run_id: change.run_id.clone(),
        expected_seq: change.expected_seq,
    }
}

const UNFINISHED: &str = "SELECT id FROM runs \
     WHERE status IN ('queued', 'running', 'paused', 'awaiting_approval', 'compensating') \
     ORDER BY priority DESC, created_at, id";

macro_rules! for_backend {
    ($($db:ty),+) => {$(
        impl Backend for $db {
            async fn write_batch(
                conn: &mut <$db as sqlx::Database>::Connection,
                changes: &[RunChange],
            ) -> Result<(), RunLogError> {
                // New runs, one statement each (they arrive one submission at a time).
                for change in changes.iter().filter(|c| c.expected_seq == 0) {
                    let state: &RunState = &change.state;
                    let inserted = sqlx::query(
                        "INSERT INTO runs (id, status, priority, last_seq, reason, state, created_at, \
                         updated_at, owner, idempotency_key, state_seq, project, goal) \
                         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $4, $11, $12) ON CONFLICT DO NOTHING",
                    )
                    .bind(&change.run_id)
                    .bind(state.status.as_str())
                    .bind(state.priority)
                    .bind(state.last_seq as i64)
                    .bind(&state.reason)
                    .bind(Json(state))
                    .bind(change.events[0].at)
                    .bind(state.updated_at)
                    .bind(&change.owner)
                    .bind(&change.idempotency_key)
                    .bind(&state.project)
                    .bind(&state.goal)
                    .execute(&mut *conn)
                    .await?;
                    if inserted.rows_affected() == 0 {
                        return Err(conflict(change));
                    }
                }

                // Existing runs: one UPDATE for many, each row checked against the seq it was
                // decided on (and its owner). The snapshot is written only where the change
                // asks: it is the one part of a commit that grows with the run, not the change.
                let updates: Vec<&RunChange> =
                    changes.iter().filter(|c| c.expected_seq > 0).collect();
                for chunk in updates.chunks(ROWS_PER_STATEMENT / 9) {
                    let mut update = sqlx::QueryBuilder::<$db>::new(
                        "WITH v (id, status, priority, last_seq, reason, updated_at, expected_seq, \
                         owner, state) AS (",
                    );
                    update.push_values(chunk, |mut row, change| {
                        let state: &RunState = &change.state;
                        row.push_bind(&change.run_id)
                            .push_bind(state.status.as_str())
                            .push_bind(state.priority)
                            .push_bind(state.last_seq as i64)
                            .push_bind(&state.reason)
                            .push_bind(state.updated_at)
                            .push_bind(change.expected_seq as i64)
                            .push_bind(&change.owner)
                            .push_bind(change.snapshot.then_some(Json(state)));
                    });
                    update.push(
                        ") UPDATE runs SET status = v.status, priority = v.priority, \
                         last_seq = v.last_seq, reason = v.reason, updated_at = v.updated_at, \
                         state = COALESCE(v.state, runs.state), \
                         state_seq = CASE WHEN v.state IS NULL THEN runs.state_seq ELSE v.last_seq END \
                         FROM v WHERE runs.id = v.id AND runs.last_seq = v.expected_seq \
                         AND (v.owner IS NULL OR runs.owner = v.owner)",
                    );
                    let updated = update.build().execute(&mut *conn).await?.rows_affected();
                    if updated != chunk.len() as u64 {
                        return Err(Self::find_conflict(conn, chunk).await);
                    }
                }

                // All the batch's events in as few statements as the parameter limit allows.
                // The exact timestamp travels in the payload; the column (microseconds on
                // PostgreSQL) is for queries.
                let events: Vec<(&str, &crate::event::RunEvent)> = changes
                    .iter()
                    .flat_map(|c| c.events.iter().map(move |e| (c.run_id.as_str(), e)))
                    .collect();
                for chunk in events.chunks(ROWS_PER_STATEMENT / 5) {
                    let mut insert = sqlx::QueryBuilder::<$db>::new(
                        "INSERT INTO run_events (run_id, seq, at, kind, payload) ",
                    );
                    insert.push_values(chunk, |mut row, (run_id, event)| {
                        row.push_bind(*run_id)
                            .push_bind(event.seq as i64)
                            .push_bind(event.at)
                            .push_bind(event.kind.name())
                            .push_bind(Json(StoredEvent { at: event.at, event: &event.kind }));
                    });
                    insert.build().execute(&mut *conn).await?;
                }

                // The step rows that changed, likewise.
                let computed: Vec<Vec<StepRow>> = changes
                    .iter()
                    .map(|c| if c.step_rows.is_some() { Vec::new() } else { step_rows(&c.state) })
                    .collect();
                let rows: Vec<(&str, &StepRow)> = changes
                    .iter()
                    .zip(&computed)
                    .flat_map(|(c, all)| {
                        c.step_rows
                            .as_ref()
                            .unwrap_or(all)
                            .iter()
                            .map(move |r| (c.run_id.as_str(), r))
                    })
                    .collect();
                for chunk in rows.chunks(ROWS_PER_STATEMENT / 9) {
                    let mut steps = sqlx::QueryBuilder::<$db>::new(
                        "INSERT INTO run_steps (run_id, key, status, priority, attempt, not_before, \
                         lease_owner, lease_expires_at, fencing_token) ",
                    );
                    steps.push_values(chunk, |mut row, (run_id, step)| {
                        row.push_bind(*run_id)
                            .push_bind(&step.key)
                            .push_bind(&step.status)
                            .push_bind(step.priority)
                            .push_bind(step.attempt)
                            .push_bind(step.not_before)
                            .push_bind(&step.lease_owner)
                            .push_bind(step.lease_expires_at)
                            .push_bind(step.fencing_token);
                    });
                    steps.push(
                        " ON CONFLICT (run_id, key) DO UPDATE SET status = excluded.status, \
                         priority = excluded.priority, attempt = excluded.attempt, \
                         not_before = excluded.not_before, lease_owner = excluded.lease_owner, \
                         lease_expires_at = excluded.lease_expires_at, \
                         fencing_token = excluded.fencing_token",
                    );
                    steps.build().execute(&mut *conn).await?;
                }
                Ok(())
            }

            async fn find_conflict(
                conn: &mut <$db as sqlx::Database>::Connection,
                chunk: &[&RunChange],
            ) -> RunLogError {
                for change in chunk {
                    let row: Result<Option<(i64, Option<String>)>, sqlx::Error> =
                        sqlx::query_as("SELECT last_seq, owner FROM runs WHERE id = $1")
                            .bind(&change.run_id)
                            .fetch_optional(&mut *conn)
                            .await;
                    let matches = match row {
                        Ok(Some((last_seq, owner))) => {
                            last_seq == change.expected_seq as i64
                                && change.owner.as_ref().is_none_or(|me| owner.as_ref() == Some(me))
                        }
                        Ok(None) => false,
                        Err(e) => return e.into(),
                    };
                    if !matches {
                        return conflict(change);
                    }
                }
                RunLogError::Invalid {
                    run_id: String::new(),
                    reason: "a bulk update touched fewer runs than it named, yet each matches".into(),
                }
            }

            async fn read_state(
                pool: &sqlx::Pool<$db>,
                run_id: &str,
            ) -> Result<Option<(Value, i64, Option<String>)>, RunLogError> {
                let row: Option<(Json<Value>, i64, Option<String>)> =
                    sqlx::query_as("SELECT state, state_seq, owner FROM runs WHERE id = $1")
                        .bind(run_id)
                        .fetch_optional(pool)
                        .await?;
                Ok(row.map(|(Json(v), seq, owner)| (v, seq, owner)))
            }

            async fn read_events(
                pool: &sqlx::Pool<$db>,
                run_id: &str,
                after_seq: u64,
            ) -> Result<Vec<(i64, Value)>, RunLogError> {
                let rows: Vec<(i64, Json<Value>)> = sqlx::query_as(
                    "SELECT seq, payload FROM run_events WHERE run_id = $1 AND seq > $2 ORDER BY seq",
                )
                .bind(run_id)
                .bind(after_seq as i64)
                .fetch_all(pool)
                .await?;
                Ok(rows.into_iter().map(|(seq, Json(p))| (seq, p)).collect())
            }

            async fn read_step_rows(
                pool: &sqlx::Pool<$db>,
                run_id: &str,
            ) -> Result<Vec<StepRow>, RunLogError> {
                let rows: Vec<StepTuple> = sqlx::query_as(
                    "SELECT key, status, priority, attempt, not_before, lease_owner, \
                     lease_expires_at, fencing_token FROM run_steps WHERE run_id = $1 ORDER BY key",
                )
                .bind(run_id)
                .fetch_all(pool)
                .await?;
                Ok(rows
                    .into_iter()
                    .map(|r| StepRow {
                        key: r.0,
                        status: r.1,
                        priority: r.2,
                        attempt: r.3,
                        not_before: r.4,
                        lease_owner: r.5,
                        lease_expires_at: r.6,
                        fencing_token: r.7,
                    })
                    .collect())
            }

            async fn unfinished(pool: &sqlx::Pool<$db>) -> Result<Vec<String>, RunLogError> {
                Ok(sqlx::query_scalar(UNFINISHED).fetch_all(pool).await?)
            }

            async fn list(
                pool: &sqlx::Pool<$db>,
                status: Option<&str>,
                before: Option<&str>,
                projects: Option<&[String]>,
                id_part: Option<&str>,
                text: Option<&str>,
                limit: i64,
            ) -> Result<Vec<RunRow>, RunLogError> {
                // Newest first; ids are UUIDv7, so their order is creation order.
                let mut query = sqlx::QueryBuilder::<$db>::new(
                    "SELECT id, status, priority, last_seq, reason, created_at, updated_at, project, \
                     goal FROM runs WHERE 1 = 1",
                );
                if let Some(status) = status {
                    query.push(" AND status = ").push_bind(status);
                }
                if let Some(before) = before {
                    query.push(" AND id < ").push_bind(before);
                }
                if let Some(part) = id_part {
                    query.push(" AND id LIKE ").push_bind(contains(part)).push(" ESCAPE '\\'");
                }
                if let Some(text) = text {
                    // Ids are lower case; a goal is compared in lower case (callers pass
                    // `text` lowered).
                    query
                        .push(" AND (id LIKE ")
                        .push_bind(contains(text))
                        .push(" ESCAPE '\\' OR LOWER(goal) LIKE ")
                        .push_bind(contains(text))
                        .push(" ESCAPE '\\')");
                }
                if let Some(projects) = projects {
                    if projects.is_empty() {
                        return Ok(Vec::new());
                    }
                    query.push(" AND project IN (");
                    let mut names = query.separated(", ");
                    for project in projects {
                        names.push_bind(project);
                    }
                    query.push(")");
                }
                query.push(" ORDER BY id DESC LIMIT ").push_bind(limit);
                Ok(query.build_query_as().fetch_all(pool).await?)
            }

            async fn project_of(pool: &sqlx::Pool<$db>, run_id: &str) -> Result<Option<String>, RunLogError> {
                Ok(sqlx::query_scalar("SELECT project FROM runs WHERE id = $1")
                    .bind(run_id)
                    .fetch_optional(pool)
                    .await?)
            }

            async fn awaiting_approval(pool: &sqlx::Pool<$db>) -> Result<Vec<(String, String)>, RunLogError> {
                Ok(sqlx::query_as(
                    "SELECT run_id, key FROM run_steps WHERE status = 'awaiting_approval' \
                     ORDER BY run_id, key",
                )
                .fetch_all(pool)
                .await?)
            }
        }
    )+};
}

/// The store's operations on one sqlx backend.
pub(super) trait Backend: sqlx::Database {
    /// Writes a batch of changes inside the caller's transaction; the first change that
    /// cannot be written is named in a [`RunLogError::Conflict`] and the caller rolls back.
    async fn write_batch(
        conn: &mut Self::Connection,
        changes: &[RunChange],
    ) -> Result<(), RunLogError>;
    /// After a bulk update touched fewer rows than it named: which run moved on, or changed
    /// hands? (Rare, so one query per run.)
    async fn find_conflict(conn: &mut Self::Connection, chunk: &[&RunChange]) -> RunLogError;
    async fn read_state(
        pool: &sqlx::Pool<Self>,
        run_id: &str,
    ) -> Result<Option<(Value, i64, Option<String>)>, RunLogError>;
    async fn read_events(
        pool: &sqlx::Pool<Self>,
        run_id: &str,
        after_seq: u64,
    ) -> Result<Vec<(i64, Value)>, RunLogError>;
    async fn read_step_rows(
        pool: &sqlx::Pool<Self>,
        run_id: &str,
    ) -> Result<Vec<StepRow>, RunLogError>;
    async fn unfinished(pool: &sqlx::Pool<Self>) -> Result<Vec<String>, RunLogError>;
    async fn list(
        pool: &sqlx::Pool<Self>,
        status: Option<&str>,
        before: Option<&str>,
        projects: Option<&[String]>,
        id_part: Option<&str>,
        text: Option<&str>,
        limit: i64,
    ) -> Result<Vec<RunRow>, RunLogError>;
    async fn project_of(
        pool: &sqlx::Pool<Self>,
        run_id: &str,
    ) -> Result<Option<String>, RunLogError>;
    async fn awaiting_approval(
        pool: &sqlx::Pool<Self>,
    ) -> Result<Vec<(String, String)>, RunLogError>;
}

for_backend!(sqlx::Sqlite, sqlx::Postgres);

/// A LIKE pattern matching values that contain `part`, its wildcards taken literally (with
/// `ESCAPE '\\'`, in both databases).
fn contains(part: &str) -> String {
    format!(
        "%{}%",
        part.replace('\\', "\\\\")
            .replace('%', "\\%")
            .replace('_', "\\_")
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unfinished_means_every_status_that_is_not_final() {
        let all = [
            RunStatus::Queued,
            RunStatus::Running,
            RunStatus::Paused,
            RunStatus::AwaitingApproval,
            RunStatus::Compensating,
            RunStatus::Succeeded,
            RunStatus::Failed,
            RunStatus::Cancelled,
        ];
        for status in all {
            let listed = UNFINISHED.contains(&format!("'{}'", status.as_str()));
            assert_eq!(listed, !status.is_final(), "{status}");
        }
    }
}
