//! Runs and their event logs in SQLite or PostgreSQL.
//!
//! `run_events` is the source of truth. `runs` (with the whole fold in `state`) and
//! `run_steps` (one row per step, indexed for claims and lease recovery) are the cached fold,
//! written in the same transaction as the events, so the cache never disagrees with the log
//! after a crash. [`RunLog::verify`] replays a run's log and compares.
//!
//! Writes come in batches ([`RunLog::commit`]): one transaction for many runs' changes, so
//! a scheduler can record hundreds of completions per commit. Each change names the `last_seq`
//! it was decided on; if another writer got there first, the whole batch is refused with
//! [`RunLogError::Conflict`] and nothing is written (optimistic concurrency, which is also what
//! keeps two processes on one PostgreSQL from both recording a step).

pub mod notify;
mod sql;
mod workers;

use sql::Backend;
pub use sql::{StepRow, step_rows};

use std::sync::Arc;

use chrono::{DateTime, Utc};
use switchyard_db::{Database, DbError};

use crate::event::RunEvent;
use crate::state::RunState;

/// One run's new events and the state they lead to.
#[derive(Debug, Clone)]
pub struct RunChange {
    pub run_id: String,
    /// `last_seq` the events were decided on: 0 for a new run.
    pub expected_seq: u64,
    pub events: Vec<RunEvent>,
    /// The fold after `events` (shared: the engine keeps working on its copy without cloning
    /// it for every commit).
    pub state: Arc<RunState>,
    /// The `run_steps` rows this change alters; `None`: every row of `state`. A scheduler that
    /// knows what it stored last passes only the rows that differ.
    pub step_rows: Option<Vec<StepRow>>,
    /// For a new run, the engine that owns it (`None`: any engine may claim it). For an
    /// existing run, `Some` fences the write: it is refused unless this engine still owns the
    /// run. People's commands from an engine that does not own the run pass `None`.
    pub owner: Option<String>,
    /// For a new run: the client's key; a second run with the same key is refused.
    pub idempotency_key: Option<String>,
    /// Rewrite the run's snapshot (`runs.state`) with this change. New runs always get one;
    /// otherwise readers fold the events recorded after the last snapshot.
    pub snapshot: bool,
}

impl RunChange {
    /// A change with no ownership fence and no idempotency key.
    pub fn new(run_id: String, expected_seq: u64, events: Vec<RunEvent>, state: RunState) -> Self {
        Self {
            run_id,
            expected_seq,
            events,
            state: Arc::new(state),
            step_rows: None,
            owner: None,
            idempotency_key: None,
            snapshot: true,
        }
    }

    /// Whether a change to a run whose snapshot is at `snapshot_seq` should write a new one:
    /// every [`SNAPSHOT_EVERY`] events, and when the run ends.
    pub fn snapshot_due(state: &RunState, snapshot_seq: u64) -> bool {
        state.status.is_final() || state.last_seq >= snapshot_seq + SNAPSHOT_EVERY
    }
}

/// At most this many events are folded on top of a run's snapshot when it is read.
pub const SNAPSHOT_EVERY: u64 = 64;

/// What can go wrong storing or loading runs.
#[derive(Debug, thiserror::Error)]
pub enum RunLogError {
    /// Another writer recorded events for this run first, another engine owns it now, or (for
    /// a new run) its id or idempotency key is taken; reload and decide again.
    #[error("run {run_id} changed since seq {expected_seq}; reload and retry")]
    Conflict { run_id: String, expected_seq: u64 },
    #[error("run {0} not found")]
    NotFound(String),
    /// A change whose events do not continue from `expected_seq` or do not lead to `state`.
    #[error("invalid change for run {run_id}: {reason}")]
    Invalid { run_id: String, reason: String },
    #[error("stored data for run {run_id} cannot be read: {reason}")]
    Corrupt { run_id: String, reason: String },
    #[error(transparent)]
    Db(#[from] DbError),
}

impl From<sqlx::Error> for RunLogError {
    fn from(e: sqlx::Error) -> Self {
        Self::Db(DbError::Query(e))
    }
}

/// One line of a run listing (the API's type: the server sends it as it is).
pub use switchyard_protocol::api::runs::RunSummary;

/// What [`RunLog::verify`] found.
#[derive(Debug, Clone, PartialEq)]
pub enum Verification {
    /// The log replays to exactly the stored state.
    Matches,
    /// It does not; says where.
    Differs(String),
}

/// The run store over either backend.
#[derive(Debug, Clone)]
pub struct RunLog {
    db: Database,
}

impl RunLog {
    /// The database must be migrated (`switchyard_db::migrate::run`).
    pub fn new(db: Database) -> Self {
        Self { db }
    }

    /// The database underneath.
    pub fn database(&self) -> &Database {
        &self.db
    }

    /// Records every change in one transaction, or none of them.
    pub async fn commit(&self, changes: &[RunChange]) -> Result<(), RunLogError> {
        self.commit_by("-", changes).await
    }

    /// [`Self::commit`], naming the engine that writes. On PostgreSQL the transaction also
    /// notifies every listening engine of what changed ([`notify::Change`]), delivered only if
    /// it commits.
    pub async fn commit_by(&self, writer: &str, changes: &[RunChange]) -> Result<(), RunLogError> {
        for change in changes {
            check_change(change)?;
        }
        match &self.db {
            Database::Sqlite(pool) => {
                let mut tx = switchyard_db::connect::sqlite_write(pool).await?;
                sqlx::Sqlite::write_batch(&mut tx, changes).await?;
                tx.commit().await?;
            }
            Database::Postgres(pool) => {
                let mut tx = switchyard_db::connect::postgres_write(pool).await?;
                sqlx::Postgres::write_batch(&mut tx, changes).await?;
                for payload in
                    notify::payloads(writer, changes.iter().filter_map(notify::Change::of))
                {
                    sqlx::query("SELECT pg_notify($1, $2)")
                        .bind(notify::CHANNEL)
                        .bind(payload)
                        .execute(&mut *tx)
                        .await?;
                }
                tx.commit().await?;
            }
        }
        Ok(())
    }

    /// The stored state of a run: its snapshot with the events after it folded in.
    pub async fn state(&self, run_id: &str) -> Result<RunState, RunLogError> {
        Ok(self.load(run_id).await?.0)
    }

    /// A run's stored state and the engine that owns it.
    pub async fn load(&self, run_id: &str) -> Result<(RunState, Option<String>), RunLogError> {
        let (json, snapshot_seq, owner) =
            on_pool!(&self.db, pool => Backend::read_state(pool, run_id).await?)
                .ok_or_else(|| RunLogError::NotFound(run_id.to_owned()))?;
        let corrupt = |reason: String| RunLogError::Corrupt {
            run_id: run_id.to_owned(),
            reason,
        };
        let mut state: RunState =
            serde_json::from_value(json).map_err(|e| corrupt(e.to_string()))?;
        if state.last_seq != snapshot_seq as u64 {
            return Err(corrupt(format!(
                "the snapshot is at seq {}, its row says {snapshot_seq}",
                state.last_seq
            )));
        }
        for event in self.events(run_id, state.last_seq).await? {
            state
                .apply(&event)
                .map_err(|e| corrupt(format!("after the snapshot: {e}")))?;
        }
        Ok((state, owner))
    }

    /// The run's events after `after_seq` (0 for all), in order.
    pub async fn events(&self, run_id: &str, after_seq: u64) -> Result<Vec<RunEvent>, RunLogError> {
        let rows = match &self.db {
            Database::Sqlite(pool) => sqlx::Sqlite::read_events(pool, run_id, after_seq).await?,
            Database::Postgres(pool) => {
                sqlx::Postgres::read_events(pool, run_id, after_seq).await?
            }
        };
        rows.into_iter()
            .map(|(seq, payload)| decode_event(run_id, seq, payload))
            .collect()
    }

    /// Ids of runs that have not finished, highest priority and oldest first: what a starting
    /// server resumes.
    pub async fn unfinished(&self) -> Result<Vec<String>, RunLogError> {
        Ok(match &self.db {
            Database::Sqlite(pool) => sqlx::Sqlite::unfinished(pool).await?,
            Database::Postgres(pool) => sqlx::Postgres::unfinished(pool).await?,
        })
    }

    /// Runs, newest first: `limit` of them created before run `before` (a cursor: the last id
    /// of the previous page), optionally only those with `status`, and only those in
    /// `projects` when it is given.
    pub async fn list(
        &self,
        status: Option<crate::status::RunStatus>,
        before: Option<&str>,
        projects: Option<&[String]>,
        limit: u32,
    ) -> Result<Vec<RunSummary>, RunLogError> {
        let filter = RunFilter {
            status,
            before,
            projects,
            ..RunFilter::default()
        };
        self.list_matching(&filter, limit).await
    }

    /// Runs, newest first: `limit` of those that `filter` lets through.
    pub async fn list_matching(
        &self,
        filter: &RunFilter<'_>,
        limit: u32,
    ) -> Result<Vec<RunSummary>, RunLogError> {
        let RunFilter {
            status,
            before,
            projects,
            id_part,
            text,
        } = *filter;
        let status = status.map(|s| s.as_str());
        let limit = i64::from(limit);
        let rows = on_pool!(&self.db, pool => Backend::list(pool, status, before, projects, id_part, text, limit).await?);
        rows.into_iter()
            .map(
                |(
                    id,
                    status,
                    priority,
                    last_seq,
                    reason,
                    created_at,
                    updated_at,
                    project,
                    goal,
                )| {
                    let status = crate::status::RunStatus::parse(&status).ok_or_else(|| {
                        RunLogError::Corrupt {
                            run_id: id.clone(),
                            reason: format!("unknown status '{status}'"),
                        }
                    })?;
                    Ok(RunSummary {
                        id,
                        status,
                        priority,
                        events: last_seq as u64,
                        reason,
                        created_at,
                        updated_at,
                        project,
                        goal,
                    })
                },
            )
            .collect()
    }

    /// The project run `run_id` belongs to; `None` if there is no such run.
    pub async fn project_of(&self, run_id: &str) -> Result<Option<String>, RunLogError> {
        Ok(on_pool!(&self.db, pool => Backend::project_of(pool, run_id).await?))
    }

    /// `(run_id, step)` of every step waiting for a person.
    pub async fn awaiting_approval(&self) -> Result<Vec<(String, String)>, RunLogError> {
        Ok(match &self.db {
            Database::Sqlite(pool) => sqlx::Sqlite::awaiting_approval(pool).await?,
            Database::Postgres(pool) => sqlx::Postgres::awaiting_approval(pool).await?,
        })
    }

    /// Replays the run's log and compares it with the stored state and step rows.
    ///
    /// The log, the state and the rows are separate reads, and an engine may commit to the
    /// run between them (a caller that saw a run end in an engine's memory can get here before
    /// that commit lands). A verdict stands only when the run's last seq was the same before
    /// and after the reads; otherwise they are read again.
    pub async fn verify(&self, run_id: &str) -> Result<Verification, RunLogError> {
        let mut verdict = Verification::Matches;
        for _ in 0..VERIFY_READS {
            let before = self.state(run_id).await?.last_seq;
            verdict = self.compare_with_log(run_id).await?;
            if self.state(run_id).await?.last_seq == before {
                return Ok(verdict);
            }
        }
        Ok(verdict)
    }

    /// One pass of [`RunLog::verify`].
    async fn compare_with_log(&self, run_id: &str) -> Result<Verification, RunLogError> {
        let events = self.events(run_id, 0).await?;
        if events.is_empty() {
            return Err(RunLogError::NotFound(run_id.to_owned()));
        }
        let replayed = match RunState::replay(&events) {
            Ok(state) => state,
            Err(e) => {
                return Ok(Verification::Differs(format!(
                    "the log does not replay: {e}"
                )));
            }
        };
        if let Err(overlap) = crate::leases::lease_history(&events) {
            return Ok(Verification::Differs(overlap));
        }
        let stored = self.state(run_id).await?;
        if stored != replayed {
            return Ok(Verification::Differs(
                "runs.state differs from the replayed log".into(),
            ));
        }
        let rows = match &self.db {
            Database::Sqlite(pool) => sqlx::Sqlite::read_step_rows(pool, run_id).await?,
            Database::Postgres(pool) => sqlx::Postgres::read_step_rows(pool, run_id).await?,
        };
        let expected = sql::step_rows(&replayed);
        if rows != expected {
            return Ok(Verification::Differs(
                "run_steps differs from the replayed log".into(),
            ));
        }
        Ok(Verification::Matches)
    }
}

/// How many times [`RunLog::verify`] reads a run that keeps changing before it answers with
/// its last verdict.
const VERIFY_READS: usize = 20;

fn check_change(change: &RunChange) -> Result<(), RunLogError> {
    let invalid = |reason: String| RunLogError::Invalid {
        run_id: change.run_id.clone(),
        reason,
    };
    let Some(first) = change.events.first() else {
        return Err(invalid("no events".into()));
    };
    if first.seq != change.expected_seq + 1 {
        return Err(invalid(format!(
            "first event has seq {}, expected {}",
            first.seq,
            change.expected_seq + 1
        )));
    }
    let last = change.events.last().map_or(0, |e| e.seq);
    if change.state.last_seq != last {
        return Err(invalid(format!(
            "state is at seq {}, events end at {last}",
            change.state.last_seq
        )));
    }
    Ok(())
}

/// Stored payloads are `{"at": …, "event": {"kind": …, …}}`.
fn decode_event(
    run_id: &str,
    seq: i64,
    payload: serde_json::Value,
) -> Result<RunEvent, RunLogError> {
    #[derive(serde::Deserialize)]
    struct Stored {
        at: DateTime<Utc>,
        event: crate::event::EventKind,
    }
    let stored: Stored = serde_json::from_value(payload).map_err(|e| RunLogError::Corrupt {
        run_id: run_id.to_owned(),
        reason: format!("event {seq}: {e}"),
    })?;
    Ok(RunEvent {
        seq: seq as u64,
        at: stored.at,
        kind: stored.event,
    })
}

/// Which runs a listing lets through; `None` lets everything through.
#[derive(Debug, Clone, Copy, Default)]
pub struct RunFilter<'a> {
    pub status: Option<crate::status::RunStatus>,
    /// Cursor: only runs created before this one (the last id of the previous page).
    pub before: Option<&'a str>,
    /// Only runs in these projects (none at all when empty).
    pub projects: Option<&'a [String]>,
    /// Only runs whose id contains this text, as written (no wildcards).
    pub id_part: Option<&'a str>,
    /// Only runs whose id or goal contains this text, given in lower case (no wildcards;
    /// goals are compared in lower case).
    pub text: Option<&'a str>,
}
