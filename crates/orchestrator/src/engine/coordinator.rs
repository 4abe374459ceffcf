//! The coordinator task: owns unfinished runs, batches decisions into one commit, then acts.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use serde_json::Value;
use tokio::sync::{mpsc, oneshot};
use tokio_util::sync::CancellationToken;

use super::{EngineConfig, EngineError, Msg, RunCommand, Submitted};
use crate::catalog::Catalog;
use crate::decide;
use crate::event::{EventKind, RunEvent};
use crate::state::RunState;
use crate::status::{RunStatus, StepStatus};
use crate::store::notify::Notice;
use crate::store::{RunChange, RunStore, StepRow, StoreError, step_rows};
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
    store: RunStore,
    catalog: Catalog,
    tools: HashMap<String, Arc<dyn Tool>>,
    config: EngineConfig,
    tx: mpsc::UnboundedSender<Msg>,
    events: Arc<super::bus::Bus>,
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
        store: RunStore,
        catalog: Catalog,
        tools: Vec<Arc<dyn Tool>>,
        config: EngineConfig,
        tx: mpsc::UnboundedSender<Msg>,
        events: Arc<super::bus::Bus>,
    ) -> Result<Self, EngineError> {
        let tools = tools.into_iter().map(|t| (t.spec().name, t)).collect();
        let mut me = Self {
            store,
            catalog,
            tools,
            config,
            tx,
            events,
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

    /// SQLite: this engine is the only one on the database.
    fn exclusive(&self) -> bool {
        matches!(self.store.database(), switchyard_db::Database::Sqlite(_))
    }

    /// How many more runs this engine may own.
    fn room(&self) -> usize {
        let owned = self.runs.values().filter(|r| r.owned).count();
        self.config.max_runs.saturating_sub(owned)
    }

    fn track(&mut self, run_id: String, stored_seq: u64, state: RunState, unsaved: Vec<RunEvent>) {
        self.arrivals += 1;
        if !unsaved.is_empty() {
            self.dirty.push(run_id.clone());
        }
        let stored_rows = if stored_seq == 0 {
            Vec::new()
        } else {
            step_rows(&state)
        };
        self.runs.insert(
            run_id,
            Tracked {
                state: Arc::new(state),
                stored_rows,
                snapshot_seq: stored_seq,
                stored_seq,
                unsaved,
                cancel: CancellationToken::new(),
                in_flight: HashSet::new(),
                compensating: false,
                arrival: self.arrivals,
                owned: true,
                idempotency_key: None,
            },
        );
    }

    /// Claims what runs it can (up to one batch) and takes them on.
    async fn claim_round(&mut self, now: DateTime<Utc>) -> Result<(), StoreError> {
        let limit = self.room().min(self.config.claim_batch.max(1));
        self.claim_wanted = false;
        if limit == 0 {
            // Full: look again once something finishes.
            self.claim_wanted = true;
            return Ok(());
        }
        let claimed = self.store.claim(&self.config.worker_id, now, limit).await?;
        if claimed.len() == limit {
            self.claim_wanted = true;
        }
        for run_id in claimed {
            self.adopt(run_id, now).await;
        }
        Ok(())
    }

    /// Takes on a run this engine just claimed. Whoever held it before is gone (or fenced
    /// out: its writes now fail on `owner`), so the leases it held end now.
    async fn adopt(&mut self, run_id: String, now: DateTime<Utc>) {
        if self.runs.contains_key(&run_id) {
            return;
        }
        let state = match self.store.load(&run_id).await {
            Ok((state, _)) if !state.status.is_final() => state,
            Ok(_) | Err(StoreError::NotFound(_)) => return,
            Err(e) => {
                tracing::warn!(%run_id, error = %e, "could not load a claimed run; will retry");
                self.orphans.push(run_id);
                return;
            }
        };
        let held: Vec<String> = state
            .steps
            .iter()
            .filter(|s| s.status == StepStatus::Leased)
            .map(|s| s.key.clone())
            .collect();
        self.track(run_id.clone(), state.last_seq, state, Vec::new());
        for step in held {
            let Some(run) = self.runs.get(&run_id) else {
                return;
            };
            if let Ok(kinds) = decide::reclaim_lease(&run.state, &step, now, fastrand::f64()) {
                self.record(&run_id, kinds, now);
            }
        }
    }

    /// Reloads a run another writer changed. Attempts whose lease the stored state still
    /// shows keep running; if the run is no longer this engine's, it is dropped.
    async fn refresh(&mut self, run_id: &str) {
        let loaded = self.store.load(run_id).await;
        let me = self.config.worker_id.as_str();
        let Some(run) = self.runs.get_mut(run_id) else {
            return;
        };
        match loaded {
            Ok((state, Some(owner))) if owner == me => {
                run.in_flight.retain(|key| {
                    state.step(key).is_some_and(|s| {
                        s.status == StepStatus::Leased
                            && s.lease.as_ref().is_some_and(|l| l.worker == me)
                    })
                });
                run.stored_seq = state.last_seq;
                run.snapshot_seq = state.last_seq;
                run.unsaved.clear();
                run.stored_rows = step_rows(&state);
                run.state = Arc::new(state);
                if !matches!(
                    run.state.status,
                    RunStatus::Running | RunStatus::AwaitingApproval | RunStatus::Paused
                ) {
                    run.cancel.cancel();
                }
            }
            Ok(_) | Err(StoreError::NotFound(_)) => {
                tracing::info!(%run_id, "run is no longer this engine's; dropping it");
                run.cancel.cancel();
                self.runs.remove(run_id);
            }
            Err(e) => {
                tracing::warn!(%run_id, error = %e, "could not reload a run; will retry");
                run.cancel.cancel();
                self.runs.remove(run_id);
                self.orphans.push(run_id.to_owned());
            }
        }
    }

    /// Renews this engine's worker row and the leases of its running attempts, retries
    /// orphans, and asks for a claim round (runs of engines that died become claimable).
    async fn heartbeat(&mut self, now: DateTime<Utc>) {
        let ttl = self.config.lease_ttl;
        if let Err(e) = self
            .store
            .heartbeat(&self.config.worker_id, now, now + ttl)
            .await
        {
            tracing::warn!(error = %e, "heartbeat not recorded");
        }
        let renew_before = now + ttl * 2 / 3;
        let mut renew = Vec::new();
        for (run_id, run) in &self.runs {
            for key in &run.in_flight {
                if let Some(lease) = run.state.step(key).and_then(|s| s.lease.as_ref())
                    && lease.worker == self.config.worker_id
                    && lease.expires_at < renew_before
                {
                    renew.push((run_id.clone(), key.clone(), lease.fencing_token));
                }
            }
        }
        for (run_id, key, token) in renew {
            if let Some(run) = self.runs.get(&run_id)
                && let Ok(kinds) = decide::heartbeat(&run.state, &key, token, now, ttl)
            {
                self.record(&run_id, kinds, now);
            }
        }
        for run_id in std::mem::take(&mut self.orphans) {
            self.adopt(run_id, now).await;
        }
        self.claim_wanted = true;
        self.heartbeat_due = Instant::now() + ttl / 3;
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
                priority,
                idempotency_key,
                project,
                reply,
            } => {
                let project = if project.is_empty() {
                    crate::DEFAULT_PROJECT.to_owned()
                } else {
                    project
                };
                self.submit(plan, (priority, project), idempotency_key, reply, now)
                    .await
            }
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

    async fn submit(
        &mut self,
        plan: Result<crate::plan::Plan, String>,
        (priority, project): (i32, String),
        idempotency_key: Option<String>,
        reply: oneshot::Sender<Result<Submitted, EngineError>>,
        now: DateTime<Utc>,
    ) {
        if let Some(key) = &idempotency_key {
            let existing = match self.pending_keys.get(key) {
                Some(run_id) => Ok(Some(run_id.clone())),
                None => self.store.find_by_idempotency_key(key).await,
            };
            match existing {
                Ok(Some(run_id)) => {
                    let _ = reply.send(Ok(Submitted {
                        run_id,
                        created: false,
                    }));
                    return;
                }
                Ok(None) => {}
                Err(e) => {
                    let _ = reply.send(Err(e.into()));
                    return;
                }
            }
        }
        let threshold = self.config.approval_threshold;
        // `unplanned`: why no plan could be made; such a run is created and failed at once.
        let (first, unplanned) = match plan {
            Ok(plan) => match validate(plan, &self.catalog, &self.config.plan_limits) {
                Ok(valid) => (decide::create(valid, threshold, priority, project), None),
                Err(problems) => {
                    let _ = reply.send(Err(problems.into()));
                    return;
                }
            },
            Err(reason) => (
                decide::create_unplanned(threshold, priority, project),
                Some(reason),
            ),
        };
        let run_id = uuid::Uuid::now_v7().to_string();
        let created = RunEvent {
            seq: 1,
            at: now,
            kind: first,
        };
        let state = RunState::replay([&created]).expect("a fresh run replays");
        let start = match unplanned {
            None => decide::start(&state).expect("a new run can start"),
            Some(reason) => decide::fail_unplanned(&state, &reason).expect("a new run can fail"),
        };
        let owned = self.room() > 0;
        self.track(run_id.clone(), 0, state, vec![created]);
        if let Some(run) = self.runs.get_mut(&run_id) {
            run.owned = owned;
            run.idempotency_key = idempotency_key.clone();
        }
        if let Some(key) = &idempotency_key {
            self.pending_keys.insert(key.clone(), run_id.clone());
        }
        self.record(&run_id, start, now);
        self.actions.push(Action::Submitted {
            reply,
            run_id,
            idempotency_key,
        });
    }

    /// Another engine committed: reload the runs of ours it touched, claim what it offers.
    async fn remote(&mut self, notice: Notice) {
        if notice.writer == self.config.worker_id {
            return;
        }
        if notice.released || notice.changes.iter().any(|c| c.unowned) {
            self.claim_wanted = true;
        }
        for change in notice.changes {
            let stale = self.runs.get(&change.run_id).is_some_and(|run| {
                run.owned && run.stored_seq < change.last_seq && run.unsaved.is_empty()
            });
            if stale {
                self.refresh(&change.run_id).await;
            }
        }
    }

    async fn stored_state(&self, run_id: &str) -> Result<RunState, EngineError> {
        self.store.state(run_id).await.map_err(|e| match e {
            StoreError::NotFound(id) => EngineError::UnknownRun(id),
            other => other.into(),
        })
    }

    /// A command for a run this engine owns: decided here, committed with the next batch.
    fn command(
        &mut self,
        run_id: &str,
        command: RunCommand,
        now: DateTime<Utc>,
    ) -> Result<(), EngineError> {
        let Some(run) = self.runs.get(run_id) else {
            return Err(EngineError::UnknownRun(run_id.to_owned()));
        };
        let kinds = decide_command(&run.state, &command)?;
        self.record(run_id, kinds, now);
        Ok(())
    }

    /// A command for a run this engine does not hold (finished, or owned by another engine):
    /// decided on the stored state and committed at once, without an ownership fence; the
    /// owner hears of it by notification, or when its own next write is refused.
    async fn remote_command(
        &mut self,
        run_id: &str,
        command: &RunCommand,
        now: DateTime<Utc>,
    ) -> Result<(), EngineError> {
        for _ in 0..5 {
            let state = self.stored_state(run_id).await?;
            if state.status.is_final() {
                return Err(decide::CommandError::Conflict(format!(
                    "the run is already {}",
                    state.status
                ))
                .into());
            }
            let kinds = decide_command(&state, command)?;
            let mut next = state.clone();
            let events = next
                .append(kinds, now)
                .expect("decided events apply: decide checked them on a copy");
            let change = RunChange::new(run_id.to_owned(), state.last_seq, events, next);
            match self
                .store
                .commit_by(&self.config.worker_id, std::slice::from_ref(&change))
                .await
            {
                Ok(()) => {
                    for event in change.events {
                        self.events.publish(run_id, event);
                    }
                    return Ok(());
                }
                Err(StoreError::Conflict { .. }) => continue,
                Err(e) => return Err(e.into()),
            }
        }
        Err(decide::CommandError::Conflict(
            "the run kept changing while the command was being recorded; try again".into(),
        )
        .into())
    }

    /// Applies decided events to the run's state and queues them for the next commit.
    fn record(&mut self, run_id: &str, kinds: Vec<EventKind>, now: DateTime<Utc>) {
        let Some(run) = self.runs.get_mut(run_id) else {
            return;
        };
        if run.unsaved.is_empty() {
            self.dirty.push(run_id.to_owned());
        }
        let appended = Arc::make_mut(&mut run.state)
            .append(kinds, now)
            .expect("decided events apply: decide checked them on a copy");
        run.unsaved.extend(appended);
        if !matches!(
            run.state.status,
            RunStatus::Running | RunStatus::AwaitingApproval | RunStatus::Paused
        ) {
            // Unwinding or ended: attempts still running are no longer wanted.
            run.cancel.cancel();
        }
    }

    fn finished(&mut self, finished: Finished, now: DateTime<Utc>) {
        let Finished {
            run_id,
            step,
            outcome,
        } = finished;
        let kinds = match outcome {
            Outcome::Attempt {
                fencing_token,
                agent,
                result,
            } => {
                self.running_total -= 1;
                if let Some(n) = self.running_by_agent.get_mut(&agent) {
                    *n -= 1;
                }
                let Some(run) = self.runs.get_mut(&run_id) else {
                    return;
                };
                run.in_flight.remove(&step);
                let state = &run.state;
                match result {
                    Ok(output) => decide::succeed(state, &step, fencing_token, output),
                    Err(ToolError::Cancelled) => return,
                    Err(ToolError::Retryable {
                        message,
                        retry_after,
                    }) => decide::fail_after(
                        state,
                        &step,
                        fencing_token,
                        &message,
                        true,
                        retry_after,
                        now,
                        fastrand::f64(),
                    ),
                    Err(ToolError::Permanent { message }) => decide::fail(
                        state,
                        &step,
                        fencing_token,
                        &message,
                        false,
                        now,
                        fastrand::f64(),
                    ),
                }
            }
            Outcome::Compensation { error } => {
                let Some(run) = self.runs.get_mut(&run_id) else {
                    return;
                };
                run.compensating = false;
                decide::compensated(&run.state, &step, error)
            }
        };
        match kinds {
            Ok(kinds) => self.record(&run_id, kinds, now),
            // The run moved on (cancelled, unwinding): this outcome is no longer wanted.
            Err(refused) => tracing::debug!(%run_id, %step, %refused, "outcome not recorded"),
        }
    }

    /// Leases what can start, recovers expired leases, starts the next compensation.
    fn schedule(&mut self, now: DateTime<Utc>) {
        let mut expired = Vec::new();
        let mut compensate = Vec::new();
        let mut ready = Vec::new();
        for (run_id, run) in self.runs.iter().filter(|(_, r)| r.owned) {
            let state = &run.state;
            for (index, step) in state.steps.iter().enumerate() {
                match step.status {
                    StepStatus::Leased if !run.in_flight.contains(&step.key) => {
                        if step.lease.as_ref().is_some_and(|l| l.expires_at <= now) {
                            expired.push((run_id.clone(), step.key.clone()));
                        }
                    }
                    StepStatus::Ready
                        if state.status == RunStatus::Running
                            && step.not_before.is_none_or(|at| at <= now) =>
                    {
                        ready.push((-state.priority, run.arrival, index, run_id.clone()));
                    }
                    _ => {}
                }
            }
            if state.status == RunStatus::Compensating
                && !run.compensating
                && let Some(next) = state.compensation_queue.first()
            {
                compensate.push((run_id.clone(), next.clone()));
            }
        }
        for (run_id, step) in expired {
            if let Some(run) = self.runs.get(&run_id)
                && let Ok(kinds) = decide::expire_lease(&run.state, &step, now, fastrand::f64())
            {
                self.record(&run_id, kinds, now);
            }
        }
        for (run_id, step) in compensate {
            if let Some(run) = self.runs.get_mut(&run_id) {
                run.compensating = true;
                self.actions.push(Action::Compensate { run_id, step });
            }
        }
        ready.sort();
        for (_, _, index, run_id) in ready {
            if self.running_total >= self.config.global_limit {
                break;
            }
            let Some(run) = self.runs.get(&run_id) else {
                continue;
            };
            if run.in_flight.len() >= self.config.per_run_limit
                || run.state.status != RunStatus::Running
            {
                continue;
            }
            let spec = &run.state.plan.steps[index];
            let agent_running = self.running_by_agent.get(&spec.agent).copied().unwrap_or(0);
            if let Some(&limit) = self.config.agent_limits.get(&spec.agent)
                && agent_running >= limit
            {
                continue;
            }
            let key = spec.key.clone();
            let agent = spec.agent.clone();
            let lease_for = self.config.lease_ttl;
            let Ok(kinds) = decide::lease(&run.state, &key, &self.config.worker_id, now, lease_for)
            else {
                continue;
            };
            let fencing_token = run.state.next_fencing_token;
            let attempt = run.state.steps[index].attempt + 1;
            self.record(&run_id, kinds, now);
            self.running_total += 1;
            *self.running_by_agent.entry(agent).or_default() += 1;
            if let Some(run) = self.runs.get_mut(&run_id) {
                run.in_flight.insert(key.clone());
            }
            self.actions.push(Action::Attempt {
                run_id,
                step: key,
                attempt,
                fencing_token,
            });
        }
    }

    /// Commits the batch, then acts on it. A run another writer changed first is taken out
    /// of the batch and reloaded, and the rest committed; on any other failure nothing is
    /// acted on and the touched runs are reloaded, so memory never runs ahead of the database.
    async fn flush(&mut self) {
        self.evict_finished();
        if self.dirty.is_empty() && self.actions.is_empty() {
            return;
        }
        let me = self.config.worker_id.clone();
        let dirty = std::mem::take(&mut self.dirty);
        let mut fresh_rows: HashMap<String, Vec<StepRow>> = HashMap::new();
        let mut changes: Vec<RunChange> = dirty
            .iter()
            .filter_map(|id| {
                let run = self.runs.get_mut(id)?;
                if run.unsaved.is_empty() {
                    return None;
                }
                let rows = step_rows(&run.state);
                let changed: Vec<StepRow> = if rows.len() == run.stored_rows.len() {
                    rows.iter()
                        .zip(&run.stored_rows)
                        .filter(|(new, old)| new != old)
                        .map(|(new, _)| new.clone())
                        .collect()
                } else {
                    rows.clone()
                };
                fresh_rows.insert(id.clone(), rows);
                Some(RunChange {
                    run_id: id.clone(),
                    expected_seq: run.stored_seq,
                    events: std::mem::take(&mut run.unsaved),
                    state: Arc::clone(&run.state),
                    step_rows: Some(changed),
                    snapshot: run.stored_seq == 0
                        || RunChange::snapshot_due(&run.state, run.snapshot_seq),
                    owner: run.owned.then(|| me.clone()),
                    idempotency_key: if run.stored_seq == 0 {
                        run.idempotency_key.clone()
                    } else {
                        None
                    },
                })
            })
            .collect();
        let mut actions = std::mem::take(&mut self.actions);
        self.pending_keys.clear();
        loop {
            if changes.is_empty() {
                break;
            }
            match self.store.commit_by(&me, &changes).await {
                Ok(()) => break,
                Err(StoreError::Conflict { run_id, .. }) => {
                    tracing::debug!(%run_id, "run changed elsewhere; reloading it");
                    changes.retain(|c| c.run_id != run_id);
                    let (theirs, ours): (Vec<_>, Vec<_>) =
                        actions.into_iter().partition(|a| a.run_id() == run_id);
                    actions = ours;
                    self.drop_actions(theirs, "the run changed elsewhere; try again")
                        .await;
                    self.refresh(&run_id).await;
                }
                Err(e) => {
                    tracing::error!(error = %e, runs = changes.len(), "could not record a batch; reloading");
                    self.drop_actions(actions, &format!("not recorded: {e}"))
                        .await;
                    for change in changes {
                        if change.expected_seq == 0 {
                            if let Some(run) = self.runs.remove(&change.run_id) {
                                run.cancel.cancel();
                            }
                        } else {
                            self.refresh(&change.run_id).await;
                        }
                    }
                    return;
                }
            }
        }
        for change in changes {
            if let Some(run) = self.runs.get_mut(&change.run_id) {
                run.stored_seq = change.state.last_seq;
                if change.snapshot {
                    run.snapshot_seq = change.state.last_seq;
                }
                if let Some(rows) = fresh_rows.remove(&change.run_id) {
                    run.stored_rows = rows;
                }
            }
            for event in change.events {
                self.events.publish(&change.run_id, event);
            }
        }
        for action in actions {
            self.act(action);
        }
        self.evict_finished();
    }

    /// Ended runs leave memory once nothing of theirs is running and all is committed; so
    /// do runs recorded for other engines to claim.
    fn evict_finished(&mut self) {
        self.runs.retain(|_, run| {
            let done = run.in_flight.is_empty() && !run.compensating && run.unsaved.is_empty();
            !(done && (run.state.status.is_final() || (!run.owned && run.stored_seq > 0)))
        });
    }

    /// Undoes what uncommitted actions promised: slots of attempts never started, replies
    /// to callers whose request was not recorded.
    async fn drop_actions(&mut self, actions: Vec<Action>, why: &str) {
        for action in actions {
            match action {
                // Leased in this batch but never started: give back its slot. Attempts started
                // by earlier batches give theirs back when they finish.
                Action::Attempt { run_id, step, .. } => {
                    let run = self.runs.get_mut(&run_id);
                    let agent = run.and_then(|run| {
                        run.in_flight.remove(&step);
                        run.state
                            .plan
                            .steps
                            .iter()
                            .find(|s| s.key == step)
                            .map(|s| s.agent.clone())
                    });
                    self.running_total -= 1;
                    if let Some(n) = agent.and_then(|a| self.running_by_agent.get_mut(&a)) {
                        *n -= 1;
                    }
                }
                Action::Submitted {
                    reply,
                    run_id,
                    idempotency_key,
                } => {
                    if let Some(run) = self.runs.remove(&run_id) {
                        run.cancel.cancel();
                    }
                    // Lost a race for the key: answer with the run that won it.
                    let winner = match &idempotency_key {
                        Some(key) => self.store.find_by_idempotency_key(key).await.ok().flatten(),
                        None => None,
                    };
                    let _ = reply.send(match winner {
                        Some(run_id) => Ok(Submitted {
                            run_id,
                            created: false,
                        }),
                        None => Err(EngineError::Store(StoreError::Invalid {
                            run_id,
                            reason: why.to_owned(),
                        })),
                    });
                }
                Action::Done { reply, .. } => {
                    let _ = reply.send(Err(decide::CommandError::Conflict(why.to_owned()).into()));
                }
                Action::Compensate { run_id, .. } => {
                    if let Some(run) = self.runs.get_mut(&run_id) {
                        run.compensating = false;
                    }
                }
            }
        }
    }

    fn act(&mut self, action: Action) {
        match action {
            Action::Submitted { reply, run_id, .. } => {
                let _ = reply.send(Ok(Submitted {
                    run_id,
                    created: true,
                }));
            }
            Action::Done { reply, .. } => {
                let _ = reply.send(Ok(()));
            }
            Action::Attempt {
                run_id,
                step,
                attempt,
                fencing_token,
            } => self.start_attempt(run_id, step, attempt, fencing_token),
            Action::Compensate { run_id, step } => self.start_compensation(run_id, step),
        }
    }

    fn start_attempt(&mut self, run_id: String, step: String, attempt: u32, fencing_token: u64) {
        let Some(run) = self.runs.get(&run_id) else {
            return;
        };
        let Some(spec) = run.state.plan.steps.iter().find(|s| s.key == step) else {
            return;
        };
        let agent = spec.agent.clone();
        let timeout = Duration::from_secs(spec.timeout_s);
        let prepared = self.prepare_input(&run.state, &spec.tool, &spec.input);
        let ctx = ToolContext::new(&run_id, &step, attempt, run.cancel.child_token());
        self.spawn_tool(&spec.tool, prepared, ctx, timeout, move |result| Finished {
            run_id,
            step,
            outcome: Outcome::Attempt {
                fencing_token,
                agent,
                result,
            },
        });
    }

    /// Compensations run once each, on their own token: cancelling the run does not stop the
    /// unwinding it started.
    fn start_compensation(&mut self, run_id: String, step: String) {
        let Some(run) = self.runs.get(&run_id) else {
            return;
        };
        let Some(spec) = run.state.plan.steps.iter().find(|s| s.key == step) else {
            return;
        };
        let Some(comp) = &spec.compensation else {
            return;
        };
        let timeout = Duration::from_secs(spec.timeout_s);
        let prepared = self.prepare_input(&run.state, &comp.tool, &comp.input);
        let attempt = run.state.step(&step).map_or(1, |s| s.attempt);
        let name = format!("{step}.compensation");
        let ctx = ToolContext::new(&run_id, &name, attempt, CancellationToken::new());
        self.spawn_tool(&comp.tool, prepared, ctx, timeout, move |result| Finished {
            run_id,
            step,
            outcome: Outcome::Compensation {
                error: result.err().map(|e| e.to_string()),
            },
        });
    }

    /// Runs `tool` on its own task under `timeout` and reports back through `finish`.
    fn spawn_tool(
        &self,
        tool: &str,
        prepared: Result<Value, ToolError>,
        ctx: ToolContext,
        timeout: Duration,
        finish: impl FnOnce(Result<Value, ToolError>) -> Finished + Send + 'static,
    ) {
        let tool = self.tools.get(tool).cloned();
        let tx = self.tx.clone();
        tokio::spawn(async move {
            let result = match (tool, prepared) {
                (_, Err(e)) => Err(e),
                (None, _) => Err(ToolError::permanent(
                    "no implementation is installed for this tool",
                )),
                (Some(tool), Ok(input)) => {
                    run_with_timeout(tool.as_ref(), &ctx, input, timeout).await
                }
            };
            let _ = tx.send(Msg::Finished(finish(result)));
        });
    }

    /// Fills in templates from finished steps' outputs and checks the result against the
    /// tool's schema (templated values could only be checked now).
    fn prepare_input(
        &self,
        state: &RunState,
        tool: &str,
        input: &Value,
    ) -> Result<Value, ToolError> {
        let outputs: HashMap<String, Value> = state
            .steps
            .iter()
            .filter_map(|s| s.output.clone().map(|o| (s.key.clone(), o)))
            .collect();
        let compiled = self.catalog.tools.get(tool);
        let verbatim = compiled
            .map(|c| template::verbatim_fields(&c.spec.input_schema))
            .unwrap_or_default();
        let (templated, kept) = template::split_verbatim(input, &verbatim);
        let mut rendered = template::render(&templated, &outputs)
            .map_err(|e| ToolError::permanent(format!("input: {e}")))?;
        if let Some(object) = rendered.as_object_mut() {
            object.extend(kept);
        }
        if let Some(compiled) = compiled
            && let Some(error) = compiled.validator.iter_errors(&rendered).next()
        {
            return Err(ToolError::permanent(format!(
                "input{}: {}",
                error.instance_path().as_str(),
                error.masked()
            )));
        }
        Ok(rendered)
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

fn decide_command(
    state: &RunState,
    command: &RunCommand,
) -> Result<Vec<EventKind>, decide::CommandError> {
    match command {
        RunCommand::Approve {
            step,
            by,
            rationale,
        } => decide::approve(state, step, by, rationale),
        RunCommand::Reject {
            step,
            by,
            rationale,
        } => decide::reject(state, step, by, rationale),
        RunCommand::Pause { by } => decide::pause(state, by),
        RunCommand::Resume { by } => decide::resume(state, by),
        RunCommand::Cancel { by, reason } => decide::cancel(state, by, reason),
    }
}

async fn run_with_timeout(
    tool: &dyn Tool,
    ctx: &ToolContext,
    input: Value,
    timeout: Duration,
) -> Result<Value, ToolError> {
    match tokio::time::timeout(timeout, tool.run(ctx, input)).await {
        Ok(result) => result,
        Err(_) => {
            ctx.cancel.cancel();
            Err(ToolError::retryable(format!(
                "timed out after {} s",
                timeout.as_secs()
            )))
        }
    }
}
