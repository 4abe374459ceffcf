//! The coordinator task: owns unfinished runs, batches decisions into one commit, then acts.
//!
//! # Layout
//!
//! This file holds the coordinator's state and its loop (load, run, handle a message, when to
//! wake); its work is split by concern, each an `impl Coordinator` of its own:
//!
//! - [`ownership`]: claiming, adopting, refreshing and letting go of runs; heartbeats.
//! - [`intake`]: submissions, commands, other engines' notices; recording decided events.
//! - [`scheduling`]: folding ended attempts in; leasing ready steps; recovering leases.
//! - [`commit`]: one commit per batch, conflicts, undoing an uncommitted batch's actions.
//! - [`attempts`]: starting attempts and compensations as tasks, and their reports.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use serde_json::Value;
use tokio::sync::{mpsc, oneshot};
use tokio_util::sync::CancellationToken;

mod attempts;
mod commit;
mod intake;
mod ownership;
mod scheduling;

use super::{EngineConfig, EngineError, Msg, RunCommand, Submitted};
use crate::catalog::Catalog;
use crate::decide;
use crate::event::{EventKind, RunEvent};
use crate::runlog::notify::Notice;
use crate::runlog::{RunChange, RunLog, RunLogError, StepRow, step_rows};
use crate::state::RunState;
use crate::status::{RunStatus, StepStatus};
use crate::template;
use crate::tools::{Tool, ToolContext, ToolError};
use crate::validate::validate;

/// How many runs one batch touches before it is committed.
const BATCH: usize = 512;
/// How long the coordinator sleeps when nothing is due.
const IDLE: Duration = Duration::from_secs(60);

/// An attempt or compensation that ended, reported back by its task.
pub(crate) struct Finished {
    run_id: String,
    step: String,
    outcome: Outcome,
}

enum Outcome {
    Attempt {
        fencing_token: u64,
        agent: String,
        result: Result<Value, ToolError>,
    },
    Compensation {
        error: Option<String>,
    },
}

/// One unfinished run, as this process knows it.
struct Tracked {
    /// Shared with the change being committed; copied on write only while a commit holds it.
    state: Arc<RunState>,
    /// `run_steps` as last committed, so a commit writes only the rows that changed.
    stored_rows: Vec<StepRow>,
    /// `seq` of the run's stored snapshot (see [`RunChange::snapshot`]).
    snapshot_seq: u64,
    /// `last_seq` as committed (0 before the run's first commit).
    stored_seq: u64,
    /// Events applied to `state` but not yet committed.
    unsaved: Vec<RunEvent>,
    /// Fires when the run no longer needs its attempts (cancelled, unwinding, ended).
    cancel: CancellationToken,
    /// Steps whose attempt runs in this process.
    in_flight: HashSet<String>,
    compensating: bool,
    /// Order of arrival, to break priority ties fairly.
    arrival: u64,
    /// This engine owns the run. A run submitted while the engine was full is recorded
    /// without an owner, for any engine to claim, and is forgotten once committed.
    owned: bool,
    /// The client's key, written with the run's first commit.
    idempotency_key: Option<String>,
}

/// What to do once the batch is committed.
enum Action {
    Attempt {
        run_id: String,
        step: String,
        attempt: u32,
        fencing_token: u64,
    },
    Compensate {
        run_id: String,
        step: String,
    },
    Submitted {
        reply: oneshot::Sender<Result<Submitted, EngineError>>,
        run_id: String,
        idempotency_key: Option<String>,
    },
    Done {
        reply: oneshot::Sender<Result<(), EngineError>>,
        run_id: String,
    },
}

impl Action {
    fn run_id(&self) -> &str {
        match self {
            Self::Attempt { run_id, .. }
            | Self::Compensate { run_id, .. }
            | Self::Submitted { run_id, .. }
            | Self::Done { run_id, .. } => run_id,
        }
    }
}

pub(super) struct Coordinator {
    store: RunLog,
    catalog: Catalog,
    tools: HashMap<String, Arc<dyn Tool>>,
    config: EngineConfig,
    tx: mpsc::UnboundedSender<Msg>,
    events: Arc<super::bus::Bus>,
    /// A handle to this engine, handed to tools in their context (`subrun` starts runs).
    engine: super::Engine,
    runs: HashMap<String, Tracked>,
    arrivals: u64,
    running_total: usize,
    running_by_agent: HashMap<String, usize>,
    /// Runs with unsaved events, in the order they were first touched.
    dirty: Vec<String>,
    actions: Vec<Action>,
    /// When this engine next renews its worker row and its attempts' leases.
    heartbeat_due: Instant,
    /// There may be runs to claim: another engine released some, a run was submitted
    /// without an owner, or the heartbeat came round.
    claim_wanted: bool,
    /// Owned runs dropped from memory because they could not be reloaded; retried on
    /// every heartbeat.
    orphans: Vec<String>,
    /// Idempotency keys of runs submitted in this batch, not yet committed.
    pending_keys: HashMap<String, String>,
}

impl Coordinator {
    pub(super) async fn load(
        store: RunLog,
        catalog: Catalog,
        tools: Vec<Arc<dyn Tool>>,
        config: EngineConfig,
        engine: super::Engine,
    ) -> Result<Self, EngineError> {
        let tools = tools.into_iter().map(|t| (t.spec().name, t)).collect();
        let mut me = Self {
            store,
            catalog,
            tools,
            config,
            tx: engine.tx.clone(),
            events: engine.events.clone(),
            engine,
            runs: HashMap::new(),
            arrivals: 0,
            running_total: 0,
            running_by_agent: HashMap::new(),
            dirty: Vec::new(),
            actions: Vec::new(),
            heartbeat_due: Instant::now(),
            claim_wanted: true,
            orphans: Vec::new(),
            pending_keys: HashMap::new(),
        };
        let now = Utc::now();
        me.store
            .heartbeat(&me.config.worker_id, now, now + me.config.lease_ttl)
            .await?;
        if me.exclusive() {
            // One process per SQLite file: whoever ran before us is gone, and so are its
            // attempts. Their leases are reclaimed as the runs are claimed, below.
            me.store.retire_others(&me.config.worker_id).await?;
            while me.claim_wanted && me.room() > 0 {
                me.claim_round(now).await?;
            }
        } else {
            me.claim_round(now).await?;
        }
        me.heartbeat_due = Instant::now() + me.config.lease_ttl / 3;
        tracing::info!(
            runs = me.runs.len(),
            worker = %me.config.worker_id,
            "engine resumed unfinished runs"
        );
        Ok(me)
    }

    pub(super) async fn run(mut self, mut rx: mpsc::UnboundedReceiver<Msg>) {
        // Resumed runs may have work due now, which no timer and no message announces.
        self.schedule(Utc::now());
        self.flush().await;
        loop {
            let mut wake = self
                .next_wake(Utc::now())
                .min(self.heartbeat_due.saturating_duration_since(Instant::now()));
            if self.claim_wanted && self.room() > 0 {
                wake = Duration::ZERO;
            }
            let mut shutdown = None;
            tokio::select! {
                msg = rx.recv() => match msg {
                    Some(msg) => shutdown = self.handle(msg).await,
                    None => return,
                },
                () = tokio::time::sleep(wake) => {}
            }
            while shutdown.is_none() && self.dirty.len() < BATCH {
                match rx.try_recv() {
                    Ok(msg) => shutdown = self.handle(msg).await,
                    Err(_) => break,
                }
            }
            if let Some(done) = shutdown {
                for run in self.runs.values() {
                    run.cancel.cancel();
                }
                // Give the runs up so other engines take them at once.
                if let Err(e) = self.store.retire(&self.config.worker_id).await {
                    tracing::warn!(error = %e, "could not release this engine's runs");
                }
                let _ = done.send(());
                return;
            }
            if Instant::now() >= self.heartbeat_due {
                self.heartbeat(Utc::now()).await;
            }
            if self.claim_wanted
                && self.room() > 0
                && let Err(e) = self.claim_round(Utc::now()).await
            {
                tracing::warn!(error = %e, "could not claim runs");
            }
            self.schedule(Utc::now());
            self.flush().await;
        }
    }

    /// Handles one message; returns the reply channel if it asks to stop.
    async fn handle(&mut self, msg: Msg) -> Option<oneshot::Sender<()>> {
        let now = Utc::now();
        match msg {
            Msg::Submit {
                plan,
                origin,
                idempotency_key,
                reply,
            } => self.submit(plan, origin, idempotency_key, reply, now).await,
            Msg::Command {
                run_id,
                command,
                reply,
            } => {
                if self.runs.get(&run_id).is_some_and(|r| r.owned) {
                    match self.command(&run_id, command, now) {
                        Ok(()) => self.actions.push(Action::Done { reply, run_id }),
                        Err(e) => {
                            let _ = reply.send(Err(e));
                        }
                    }
                } else {
                    let _ = reply.send(self.remote_command(&run_id, &command, now).await);
                }
            }
            Msg::State { run_id, reply } => {
                let state = match self.runs.get(&run_id) {
                    Some(run) if run.owned => Ok(RunState::clone(&run.state)),
                    _ => self.stored_state(&run_id).await,
                };
                let _ = reply.send(state);
            }
            Msg::Finished(finished) => self.finished(finished, now),
            Msg::Remote(notice) => self.remote(notice).await,
            Msg::Resync => {
                self.claim_wanted = true;
                let idle: Vec<String> = self
                    .runs
                    .iter()
                    .filter(|(_, r)| r.owned && r.unsaved.is_empty())
                    .map(|(id, _)| id.clone())
                    .collect();
                for run_id in idle {
                    self.refresh(&run_id).await;
                }
            }
            Msg::Shutdown(done) => return Some(done),
        }
        None
    }

    /// When the coordinator must look again without a message: the next retry or lease expiry.
    fn next_wake(&self, now: DateTime<Utc>) -> Duration {
        let mut next: Option<DateTime<Utc>> = None;
        for run in self.runs.values() {
            for step in &run.state.steps {
                // Only future times: a step that is due but held back by a limit waits for a
                // slot to free (a message), not for the timer, or the loop would spin.
                let due = match step.status {
                    StepStatus::Ready => step.not_before,
                    StepStatus::Leased if !run.in_flight.contains(&step.key) => {
                        step.lease.as_ref().map(|l| l.expires_at)
                    }
                    _ => None,
                }
                .filter(|due| *due > now);
                if let Some(due) = due {
                    next = Some(next.map_or(due, |n| n.min(due)));
                }
            }
        }
        match next {
            Some(at) => (at - now).to_std().unwrap_or(Duration::ZERO),
            None => IDLE,
        }
    }
}
