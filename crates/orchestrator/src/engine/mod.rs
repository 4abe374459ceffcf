//! The engine: runs plans with tools, durably, in this process.
//!
//! One coordinator task owns every unfinished run's state (no locks). It takes messages —
//! submissions, people's commands, finished attempts — decides their events with
//! [`crate::decide`], records a whole batch in one transaction ([`RunLog::commit`]), and only
//! then acts on it: starts the attempts it leased, wakes waiters, publishes the events. Ready
//! steps are started in priority order within a global, a per-run and per-agent limits; each
//! attempt runs on its own task under the step's timeout and the run's cancellation token.
//! Retries wait out their backoff on the coordinator's timer; failed runs are unwound by
//! running compensations one at a time, in the order the saga decided.
//!
//! Durability: nothing is started before the lease that covers it is committed. A lease lasts
//! [`EngineConfig::lease_ttl`] and the engine renews the leases of its running attempts by
//! heartbeat (every third of that), together with its own row in `workers`. After a crash a
//! new engine resumes every unfinished run from the store; the leases the dead engine held are
//! reclaimed and their steps retried (attempts permitting), so an attempt may run twice — tools
//! get an idempotency key for that reason — but a completion is recorded once (fencing tokens).
//!
//! Several engines on one PostgreSQL share the work by run: each owns the runs it claimed
//! (`runlog::workers`: `FOR UPDATE SKIP LOCKED`, at most [`EngineConfig::max_runs`]) and
//! decides them alone; its writes are fenced on ownership, so an engine that stalled past its
//! heartbeat and lost its runs cannot record anything for them. Engines wake each other with
//! `LISTEN/NOTIFY` ([`listener`]): a new unowned run or a stopping engine invites claims, a
//! change by another engine (a person's command arriving elsewhere) makes the owner reload,
//! and every engine republishes the others' events to its own subscribers. An engine whose
//! heartbeat lapses loses its runs to the others after one lease TTL. On SQLite, one process
//! per database file, the engine declares earlier workers dead at start and takes everything.

mod bus;
mod coordinator;
mod listener;

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::{broadcast, mpsc, oneshot};

use crate::catalog::Catalog;
use crate::event::RunEvent;
use crate::plan::Plan;
use crate::runlog::{RunLog, RunLogError};
use crate::state::RunState;
use crate::tools::Tool;
use crate::validate::{Limits, PlanProblems};

/// The shortest lease TTL an engine accepts.
pub const MIN_LEASE_TTL: Duration = Duration::from_millis(30);

/// How the engine schedules.
#[derive(Debug, Clone)]
pub struct EngineConfig {
    /// Names this process in leases.
    pub worker_id: String,
    /// Attempts running at once in this process.
    pub global_limit: usize,
    /// Attempts running at once for one run.
    pub per_run_limit: usize,
    /// Attempts running at once per agent; agents not listed are bounded by the others.
    pub agent_limits: HashMap<String, usize>,
    /// Steps at or above this risk wait for approval.
    pub approval_threshold: f64,
    /// How long a lease (and this engine's claim on its runs) lasts without a heartbeat;
    /// heartbeats come every third of it.
    pub lease_ttl: Duration,
    /// The most unfinished runs this engine owns at once; runs submitted beyond that are
    /// recorded for any engine to claim.
    pub max_runs: usize,
    /// The most runs one claim takes, so engines that claim together share.
    pub claim_batch: usize,
    pub plan_limits: Limits,
    /// Events buffered for slow subscribers before they miss some.
    pub event_buffer: usize,
}

impl Default for EngineConfig {
    fn default() -> Self {
        Self {
            worker_id: format!("worker-{}", uuid::Uuid::now_v7().simple()),
            global_limit: 64,
            per_run_limit: 16,
            agent_limits: HashMap::new(),
            approval_threshold: crate::decide::DEFAULT_APPROVAL_THRESHOLD,
            lease_ttl: Duration::from_secs(30),
            max_runs: 2_000,
            claim_batch: 64,
            plan_limits: Limits::default(),
            event_buffer: 4096,
        }
    }
}

/// Why the engine refused a request.
#[derive(Debug, thiserror::Error)]
pub enum EngineError {
    #[error(transparent)]
    InvalidPlan(#[from] PlanProblems),
    #[error("run {0} not found")]
    UnknownRun(String),
    #[error(transparent)]
    Refused(#[from] crate::decide::CommandError),
    #[error(transparent)]
    RunLog(#[from] RunLogError),
    #[error("the engine has stopped")]
    Stopped,
}

/// What a person (or API client) asks of a run.
#[derive(Debug, Clone)]
pub enum RunCommand {
    Approve {
        step: String,
        by: String,
        rationale: String,
    },
    Reject {
        step: String,
        by: String,
        rationale: String,
    },
    Pause {
        by: String,
    },
    Resume {
        by: String,
    },
    Cancel {
        by: String,
        reason: String,
    },
}

/// What a submission led to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Submitted {
    pub run_id: String,
    /// False when a run with the same idempotency key already existed (and is returned).
    pub created: bool,
}

/// How to submit a run.
#[derive(Debug, Clone, Default)]
pub struct SubmitOptions {
    /// Higher runs first.
    pub priority: i32,
    /// Creates the run at most once: a second submission with this key returns the first run.
    pub idempotency_key: Option<String>,
    /// The project the run belongs to; empty means [`crate::DEFAULT_PROJECT`].
    pub project: String,
    /// Who starts it (a user's id, or `local-operator`), kept in its first event.
    pub started_by: Option<String>,
    /// The words it was planned from, kept in its first event (the runs list searches them).
    pub goal: Option<String>,
}

impl SubmitOptions {
    /// What the run's first event records of it; an empty project is the default one.
    fn origin(&self) -> crate::decide::Origin {
        crate::decide::Origin {
            priority: self.priority,
            project: if self.project.is_empty() {
                crate::DEFAULT_PROJECT.to_owned()
            } else {
                self.project.clone()
            },
            started_by: self.started_by.clone(),
            goal: self.goal.clone(),
        }
    }
}

enum Msg {
    Submit {
        /// `Err(reason)`: no plan could be made; the run is recorded as failed.
        plan: Result<Plan, String>,
        origin: crate::decide::Origin,
        idempotency_key: Option<String>,
        reply: oneshot::Sender<Result<Submitted, EngineError>>,
    },
    Command {
        run_id: String,
        command: RunCommand,
        reply: oneshot::Sender<Result<(), EngineError>>,
    },
    State {
        run_id: String,
        reply: oneshot::Sender<Result<RunState, EngineError>>,
    },
    Finished(coordinator::Finished),
    /// Another engine committed (PostgreSQL).
    Remote(crate::runlog::notify::Notice),
    /// Notifications may have been missed: look again at everything.
    Resync,
    Shutdown(oneshot::Sender<()>),
}

/// A running engine. Cheap to clone; all clones talk to the same coordinator.
#[derive(Clone)]
pub struct Engine {
    tx: mpsc::UnboundedSender<Msg>,
    events: Arc<bus::Bus>,
    stop_listening: tokio_util::sync::CancellationToken,
}

impl std::fmt::Debug for Engine {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Engine").finish_non_exhaustive()
    }
}

impl Engine {
    /// Loads every unfinished run from `store` and starts scheduling. `tools` must hold an
    /// implementation for every tool in `catalog`.
    pub async fn start(
        store: RunLog,
        catalog: Catalog,
        tools: Vec<Arc<dyn Tool>>,
        config: EngineConfig,
    ) -> Result<Self, EngineError> {
        let mut config = config;
        // Heartbeats come every third of the TTL; a zero TTL would spin.
        config.lease_ttl = config.lease_ttl.max(MIN_LEASE_TTL);
        let (tx, rx) = mpsc::unbounded_channel();
        let events = Arc::new(bus::Bus::new(config.event_buffer));
        let stop_listening = tokio_util::sync::CancellationToken::new();
        if let switchyard_db::Database::Postgres(pool) = store.database() {
            let listening = listener::spawn(
                pool.clone(),
                store.clone(),
                config.worker_id.clone(),
                tx.clone(),
                events.clone(),
                stop_listening.clone(),
            );
            // Start only once other engines' commits will be heard (it keeps retrying in the
            // background if the database is slow to answer).
            if tokio::time::timeout(Duration::from_secs(10), listening)
                .await
                .is_err()
            {
                tracing::warn!("not yet listening for other engines; starting anyway");
            }
        }
        let engine = Self {
            tx,
            events,
            stop_listening: stop_listening.clone(),
        };
        let coordinator =
            coordinator::Coordinator::load(store, catalog, tools, config, engine.clone()).await;
        let coordinator = match coordinator {
            Ok(c) => c,
            Err(e) => {
                stop_listening.cancel();
                return Err(e);
            }
        };
        tokio::spawn(coordinator.run(rx));
        Ok(engine)
    }

    /// Validates `plan`, records the run and starts it. Returns the run's id.
    pub async fn submit(&self, plan: Plan, priority: i32) -> Result<String, EngineError> {
        let options = SubmitOptions {
            priority,
            ..SubmitOptions::default()
        };
        Ok(self.submit_with(plan, options).await?.run_id)
    }

    /// [`Self::submit`] with options; says whether the run was created or already existed.
    pub async fn submit_with(
        &self,
        plan: Plan,
        options: SubmitOptions,
    ) -> Result<Submitted, EngineError> {
        self.ask(|reply| Msg::Submit {
            plan: Ok(plan),
            origin: options.origin(),
            idempotency_key: options.idempotency_key,
            reply,
        })
        .await
    }

    /// Records a run whose goal could not be planned: created with no steps and failed at
    /// once with `reason`, so it is listed and read like any failed run.
    pub async fn record_unplanned(
        &self,
        reason: String,
        options: SubmitOptions,
    ) -> Result<Submitted, EngineError> {
        self.ask(|reply| Msg::Submit {
            plan: Err(reason),
            origin: options.origin(),
            idempotency_key: options.idempotency_key,
            reply,
        })
        .await
    }

    /// Approve, reject, pause, resume or cancel; answered once recorded.
    pub async fn command(&self, run_id: &str, command: RunCommand) -> Result<(), EngineError> {
        self.ask(|reply| Msg::Command {
            run_id: run_id.to_owned(),
            command,
            reply,
        })
        .await
    }

    /// The run's current state (from memory, or the store once finished).
    pub async fn state(&self, run_id: &str) -> Result<RunState, EngineError> {
        self.ask(|reply| Msg::State {
            run_id: run_id.to_owned(),
            reply,
        })
        .await
    }

    /// Every recorded event, as `(run_id, event)`, from now on.
    pub fn subscribe(&self) -> broadcast::Receiver<(String, RunEvent)> {
        self.events.subscribe()
    }

    /// Stops scheduling and gives this engine's runs up. Attempts in flight are abandoned:
    /// whichever engine takes the runs next reclaims their leases and retries them.
    pub async fn shutdown(&self) {
        self.stop_listening.cancel();
        let (reply, done) = oneshot::channel();
        if self.tx.send(Msg::Shutdown(reply)).is_ok() {
            let _ = done.await;
        }
    }

    async fn ask<T>(
        &self,
        msg: impl FnOnce(oneshot::Sender<Result<T, EngineError>>) -> Msg,
    ) -> Result<T, EngineError> {
        let (reply, answer) = oneshot::channel();
        self.tx.send(msg(reply)).map_err(|_| EngineError::Stopped)?;
        answer.await.map_err(|_| EngineError::Stopped)?
    }
}
