//! The engine: runs plans with tools, durably, in this process.
//!
//! One coordinator task owns every unfinished run's state (no locks). It takes messages —
//! submissions, people's commands, finished attempts — decides their events with
//! [`crate::decide`], records a whole batch in one transaction ([`RunStore::commit`]), and only
//! then acts on it: starts the attempts it leased, wakes waiters, publishes the events. Ready
//! steps are started in priority order within a global, a per-run and per-agent limits; each
//! attempt runs on its own task under the step's timeout and the run's cancellation token.
//! Retries wait out their backoff on the coordinator's timer; failed runs are unwound by
//! running compensations one at a time, in the order the saga decided.
//!
//! Durability: nothing is started before the lease that covers it is committed, and a lease
//! lasts the step's timeout plus [`EngineConfig::lease_grace`]. After a crash, a new engine
//! resumes every unfinished run from the store; steps whose lease has run out are retried
//! (attempts permitting), so an attempt may run twice — tools get an idempotency key for that
//! reason — but a completion is recorded once (fencing tokens).
//!
//! Not yet: several processes sharing one PostgreSQL (claims with `SKIP LOCKED`, wake-ups by
//! `LISTEN/NOTIFY`) and the `subrun` tool. This engine assumes it is the only one writing to
//! its database.

mod coordinator;

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::{broadcast, mpsc, oneshot};

use crate::catalog::Catalog;
use crate::event::RunEvent;
use crate::plan::Plan;
use crate::state::RunState;
use crate::store::{RunStore, StoreError};
use crate::tools::Tool;
use crate::validate::{Limits, PlanProblems};

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
    /// Added to a step's timeout to give its lease.
    pub lease_grace: Duration,
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
            lease_grace: Duration::from_secs(30),
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
    Store(#[from] StoreError),
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

enum Msg {
    Submit {
        plan: Plan,
        priority: i32,
        reply: oneshot::Sender<Result<String, EngineError>>,
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
    Shutdown(oneshot::Sender<()>),
}

/// A running engine. Cheap to clone; all clones talk to the same coordinator.
#[derive(Clone)]
pub struct Engine {
    tx: mpsc::UnboundedSender<Msg>,
    events: broadcast::Sender<(String, RunEvent)>,
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
        store: RunStore,
        catalog: Catalog,
        tools: Vec<Arc<dyn Tool>>,
        config: EngineConfig,
    ) -> Result<Self, EngineError> {
        let (tx, rx) = mpsc::unbounded_channel();
        let (events, _) = broadcast::channel(config.event_buffer.max(1));
        let coordinator = coordinator::Coordinator::load(
            store,
            catalog,
            tools,
            config,
            tx.clone(),
            events.clone(),
        )
        .await?;
        tokio::spawn(coordinator.run(rx));
        Ok(Self { tx, events })
    }

    /// Validates `plan`, records the run and starts it. Returns the run's id.
    pub async fn submit(&self, plan: Plan, priority: i32) -> Result<String, EngineError> {
        self.ask(|reply| Msg::Submit {
            plan,
            priority,
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

    /// Stops scheduling. Attempts in flight are abandoned: their leases expire and a later
    /// engine retries them.
    pub async fn shutdown(&self) {
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
