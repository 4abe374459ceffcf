//! The coordinator task: owns unfinished runs, batches decisions into one commit, then acts.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};
use serde_json::Value;
use tokio::sync::{broadcast, mpsc, oneshot};
use tokio_util::sync::CancellationToken;

use super::{EngineConfig, EngineError, Msg, RunCommand};
use crate::catalog::Catalog;
use crate::decide;
use crate::event::{EventKind, RunEvent};
use crate::state::RunState;
use crate::status::{RunStatus, StepStatus};
use crate::store::{RunChange, RunStore, StoreError};
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
    state: RunState,
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
    Submitted(oneshot::Sender<Result<String, EngineError>>, String),
    Done(oneshot::Sender<Result<(), EngineError>>),
}

pub(super) struct Coordinator {
    store: RunStore,
    catalog: Catalog,
    tools: HashMap<String, Arc<dyn Tool>>,
    config: EngineConfig,
    tx: mpsc::UnboundedSender<Msg>,
    events: broadcast::Sender<(String, RunEvent)>,
    runs: HashMap<String, Tracked>,
    arrivals: u64,
    running_total: usize,
    running_by_agent: HashMap<String, usize>,
    /// Runs with unsaved events, in the order they were first touched.
    dirty: Vec<String>,
    actions: Vec<Action>,
}

impl Coordinator {
    pub(super) async fn load(
        store: RunStore,
        catalog: Catalog,
        tools: Vec<Arc<dyn Tool>>,
        config: EngineConfig,
        tx: mpsc::UnboundedSender<Msg>,
        events: broadcast::Sender<(String, RunEvent)>,
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
        };
        for run_id in me.store.unfinished().await? {
            let state = me.store.state(&run_id).await?;
            me.track(run_id, state.last_seq, state, Vec::new());
        }
        tracing::info!(runs = me.runs.len(), "engine resumed unfinished runs");
        Ok(me)
    }

    fn track(&mut self, run_id: String, stored_seq: u64, state: RunState, unsaved: Vec<RunEvent>) {
        self.arrivals += 1;
        if !unsaved.is_empty() {
            self.dirty.push(run_id.clone());
        }
        self.runs.insert(
            run_id,
            Tracked {
                state,
                stored_seq,
                unsaved,
                cancel: CancellationToken::new(),
                in_flight: HashSet::new(),
                compensating: false,
                arrival: self.arrivals,
            },
        );
    }

    pub(super) async fn run(mut self, mut rx: mpsc::UnboundedReceiver<Msg>) {
        // Resumed runs may have work due now, which no timer and no message announces.
        self.schedule(Utc::now());
        self.flush().await;
        loop {
            let wake = self.next_wake(Utc::now());
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
                let _ = done.send(());
                return;
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
                reply,
            } => match validate(plan, &self.catalog, &self.config.plan_limits) {
                Err(problems) => {
                    let _ = reply.send(Err(problems.into()));
                }
                Ok(valid) => {
                    let run_id = uuid::Uuid::now_v7().to_string();
                    let created = RunEvent {
                        seq: 1,
                        at: now,
                        kind: decide::create(valid, self.config.approval_threshold, priority),
                    };
                    let state = RunState::replay([&created]).expect("a fresh run replays");
                    let start = decide::start(&state).expect("a new run can start");
                    self.track(run_id.clone(), 0, state, vec![created]);
                    self.record(&run_id, start, now);
                    self.actions.push(Action::Submitted(reply, run_id));
                }
            },
            Msg::Command {
                run_id,
                command,
                reply,
            } => match self.command(&run_id, command, now).await {
                Ok(()) => self.actions.push(Action::Done(reply)),
                Err(e) => {
                    let _ = reply.send(Err(e));
                }
            },
            Msg::State { run_id, reply } => {
                let state = match self.runs.get(&run_id) {
                    Some(run) => Ok(run.state.clone()),
                    None => self.stored_state(&run_id).await,
                };
                let _ = reply.send(state);
            }
            Msg::Finished(finished) => self.finished(finished, now),
            Msg::Shutdown(done) => return Some(done),
        }
        None
    }

    async fn stored_state(&self, run_id: &str) -> Result<RunState, EngineError> {
        self.store.state(run_id).await.map_err(|e| match e {
            StoreError::NotFound(id) => EngineError::UnknownRun(id),
            other => other.into(),
        })
    }

    async fn command(
        &mut self,
        run_id: &str,
        command: RunCommand,
        now: DateTime<Utc>,
    ) -> Result<(), EngineError> {
        let Some(run) = self.runs.get(run_id) else {
            // Every unfinished run is in memory; one that is not has ended.
            let state = self.stored_state(run_id).await?;
            return Err(decide::CommandError::Conflict(format!(
                "the run is already {}",
                state.status
            ))
            .into());
        };
        let state = &run.state;
        let kinds = match &command {
            RunCommand::Approve {
                step,
                by,
                rationale,
            } => decide::approve(state, step, by, rationale)?,
            RunCommand::Reject {
                step,
                by,
                rationale,
            } => decide::reject(state, step, by, rationale)?,
            RunCommand::Pause { by } => decide::pause(state, by)?,
            RunCommand::Resume { by } => decide::resume(state, by)?,
            RunCommand::Cancel { by, reason } => decide::cancel(state, by, reason)?,
        };
        self.record(run_id, kinds, now);
        Ok(())
    }

    /// Applies decided events to the run's state and queues them for the next commit.
    fn record(&mut self, run_id: &str, kinds: Vec<EventKind>, now: DateTime<Utc>) {
        let Some(run) = self.runs.get_mut(run_id) else {
            return;
        };
        if run.unsaved.is_empty() {
            self.dirty.push(run_id.to_owned());
        }
        let appended = run
            .state
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
        for (run_id, run) in &self.runs {
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
            let lease_for = Duration::from_secs(spec.timeout_s) + self.config.lease_grace;
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

    /// Commits the batch, then acts on it. On failure nothing is acted on and the touched runs
    /// are reloaded from the store, so memory never runs ahead of the database.
    async fn flush(&mut self) {
        self.evict_finished();
        if self.dirty.is_empty() && self.actions.is_empty() {
            return;
        }
        let dirty = std::mem::take(&mut self.dirty);
        let changes: Vec<RunChange> = dirty
            .iter()
            .filter_map(|id| {
                let run = self.runs.get_mut(id)?;
                Some(RunChange {
                    run_id: id.clone(),
                    expected_seq: run.stored_seq,
                    events: std::mem::take(&mut run.unsaved),
                    state: run.state.clone(),
                })
            })
            .collect();
        let actions = std::mem::take(&mut self.actions);
        if let Err(e) = self.store.commit(&changes).await {
            tracing::error!(error = %e, runs = changes.len(), "could not record a batch; reloading");
            self.recover(&changes, actions, &e).await;
            return;
        }
        for change in changes {
            if let Some(run) = self.runs.get_mut(&change.run_id) {
                run.stored_seq = change.state.last_seq;
            }
            for event in change.events {
                let _ = self.events.send((change.run_id.clone(), event));
            }
        }
        for action in actions {
            self.act(action);
        }
        self.evict_finished();
    }

    /// Ended runs leave memory once nothing of theirs is running and all is committed.
    fn evict_finished(&mut self) {
        self.runs.retain(|_, run| {
            !(run.state.status.is_final()
                && run.in_flight.is_empty()
                && !run.compensating
                && run.unsaved.is_empty())
        });
    }

    async fn recover(&mut self, changes: &[RunChange], actions: Vec<Action>, error: &StoreError) {
        for action in actions {
            match action {
                // Leased in this batch but never started: give back its slot. Attempts started
                // by earlier batches give theirs back when they finish.
                Action::Attempt { run_id, step, .. } => {
                    let agent = self.runs.get(&run_id).and_then(|run| {
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
                Action::Submitted(reply, _) => {
                    let _ = reply.send(Err(EngineError::Store(StoreError::Invalid {
                        run_id: String::new(),
                        reason: format!("not recorded: {error}"),
                    })));
                }
                Action::Done(reply) => {
                    let _ = reply.send(Err(EngineError::Store(StoreError::Invalid {
                        run_id: String::new(),
                        reason: format!("not recorded: {error}"),
                    })));
                }
                Action::Compensate { .. } => {}
            }
        }
        for change in changes {
            let Some(run) = self.runs.remove(&change.run_id) else {
                continue;
            };
            run.cancel.cancel();
            if change.expected_seq == 0 {
                continue;
            }
            if let Ok(state) = self.store.state(&change.run_id).await {
                let stored = state.last_seq;
                self.track(change.run_id.clone(), stored, state, Vec::new());
            }
        }
    }

    fn act(&mut self, action: Action) {
        match action {
            Action::Submitted(reply, run_id) => {
                let _ = reply.send(Ok(run_id));
            }
            Action::Done(reply) => {
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
        let rendered = template::render(input, &outputs)
            .map_err(|e| ToolError::permanent(format!("input: {e}")))?;
        if let Some(compiled) = self.catalog.tools.get(tool)
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
