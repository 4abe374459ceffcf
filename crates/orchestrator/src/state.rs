//! A run's current state, as the fold of its events.
//!
//! [`RunState::replay`] rebuilds a run from its log; [`RunState::apply`] adds one event and
//! refuses one that cannot follow (a gap in `seq`, a stale fencing token, a transition the
//! state machine in [`crate::status`] does not have). The engine decides events with
//! [`crate::decide`] and stores them; the state tables are this fold, cached.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::event::{EventKind, RunEvent};
use crate::plan::Plan;
use crate::status::{RunStatus, StepStatus};

/// A worker's hold on a step.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Lease {
    pub worker: String,
    pub fencing_token: u64,
    pub expires_at: DateTime<Utc>,
}

/// A person's decision on a risky step.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Approval {
    pub approved: bool,
    pub by: String,
    pub rationale: String,
}

/// One step's state.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StepState {
    pub key: String,
    pub status: StepStatus,
    /// Attempts started so far.
    pub attempt: u32,
    pub max_attempts: u32,
    pub risk: f64,
    /// Indexes of the steps this one depends on.
    pub deps: Vec<usize>,
    /// A retry waits until then.
    pub not_before: Option<DateTime<Utc>>,
    pub lease: Option<Lease>,
    pub output: Option<Value>,
    pub error: Option<String>,
    pub approval: Option<Approval>,
    /// `seq` of the event that completed the step: orders the saga.
    pub completed_seq: Option<u64>,
    pub compensation_error: Option<String>,
}

/// A run's state.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RunState {
    pub status: RunStatus,
    /// Shared: copies of the state (decisions are checked on one) do not copy the plan.
    pub plan: std::sync::Arc<Plan>,
    pub steps: Vec<StepState>,
    pub priority: i32,
    /// The project the run belongs to.
    #[serde(default = "crate::default_project")]
    pub project: String,
    /// Who started it (a user's id, or `local-operator`), when recorded.
    #[serde(default)]
    pub started_by: Option<String>,
    /// The words it was planned from; `None` for a run submitted with a plan.
    #[serde(default)]
    pub goal: Option<String>,
    pub approval_threshold: f64,
    /// `seq` of the last event applied.
    pub last_seq: u64,
    /// The token the next lease gets.
    pub next_fencing_token: u64,
    /// Steps still to compensate, in order.
    pub compensation_queue: Vec<String>,
    pub compensated: Vec<String>,
    /// Why the run failed or was cancelled.
    pub reason: Option<String>,
    pub updated_at: DateTime<Utc>,
}

/// An event that cannot follow the state it was applied to.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("event {seq} ({kind}) cannot be applied: {reason}")]
pub struct ApplyError {
    pub seq: u64,
    pub kind: &'static str,
    pub reason: String,
}

impl RunState {
    /// Folds a whole log. The first event must be `run_created` with `seq` 1.
    pub fn replay<'a>(events: impl IntoIterator<Item = &'a RunEvent>) -> Result<Self, ApplyError> {
        let mut events = events.into_iter();
        let first = events.next().ok_or_else(|| ApplyError {
            seq: 0,
            kind: "none",
            reason: "the log is empty".into(),
        })?;
        let mut state = Self::created(first)?;
        for event in events {
            state.apply(event)?;
        }
        Ok(state)
    }

    fn created(event: &RunEvent) -> Result<Self, ApplyError> {
        let EventKind::RunCreated {
            plan,
            risks,
            approval_threshold,
            priority,
            project,
            started_by,
            goal,
        } = &event.kind
        else {
            return Err(refuse(event, "a log must start with run_created".into()));
        };
        if event.seq != 1 {
            return Err(refuse(event, "run_created must have seq 1".into()));
        }
        if risks.len() != plan.steps.len() {
            return Err(refuse(event, "one risk per step is required".into()));
        }
        let index_of = |key: &str| plan.steps.iter().position(|s| s.key == key);
        let mut steps = Vec::with_capacity(plan.steps.len());
        for (spec, &risk) in plan.steps.iter().zip(risks) {
            let deps = spec
                .depends_on
                .iter()
                .map(|d| index_of(d).ok_or_else(|| refuse(event, format!("unknown step '{d}'"))))
                .collect::<Result<_, _>>()?;
            steps.push(StepState {
                key: spec.key.clone(),
                status: StepStatus::Pending,
                attempt: 0,
                max_attempts: spec.retry.max_attempts,
                risk,
                deps,
                not_before: None,
                lease: None,
                output: None,
                error: None,
                approval: None,
                completed_seq: None,
                compensation_error: None,
            });
        }
        Ok(Self {
            status: RunStatus::Queued,
            plan: std::sync::Arc::new(plan.clone()),
            steps,
            priority: *priority,
            project: project.clone(),
            started_by: started_by.clone(),
            goal: goal.clone(),
            approval_threshold: *approval_threshold,
            last_seq: 1,
            next_fencing_token: 1,
            compensation_queue: Vec::new(),
            compensated: Vec::new(),
            reason: None,
            updated_at: event.at,
        })
    }

    /// The step named `key`.
    pub fn step(&self, key: &str) -> Option<&StepState> {
        self.steps.iter().find(|s| s.key == key)
    }

    /// Why `kind` cannot be the next event, for the kinds a scheduler decides by the thousand
    /// (a lease, a success); `None` for every other kind. On success, the step's index.
    /// `apply` checks these kinds with it before changing anything, and `decide` checks a
    /// decision with it without copying the whole state.
    pub fn hot_check(&self, kind: &EventKind) -> Option<Result<usize, String>> {
        let index = |key: &str| {
            self.steps
                .iter()
                .position(|s| s.key == key)
                .ok_or_else(|| format!("unknown step '{key}'"))
        };
        match kind {
            EventKind::StepLeased {
                step,
                attempt,
                fencing_token,
                ..
            } => Some((|| {
                if self.status != RunStatus::Running {
                    return Err(format!("the run is {}", self.status));
                }
                let i = index(step)?;
                let s = &self.steps[i];
                if s.status != StepStatus::Ready {
                    return Err(format!(
                        "step '{}' is {}, not {}",
                        s.key,
                        s.status,
                        StepStatus::Ready
                    ));
                }
                if *attempt != s.attempt + 1 || *attempt > s.max_attempts {
                    return Err(format!("attempt {attempt} does not follow {}", s.attempt));
                }
                if *fencing_token != self.next_fencing_token {
                    return Err(format!(
                        "fencing token {fencing_token}, expected {}",
                        self.next_fencing_token
                    ));
                }
                Ok(i)
            })()),
            EventKind::StepSucceeded {
                step,
                fencing_token,
                ..
            } => Some((|| {
                if !matches!(
                    self.status,
                    RunStatus::Running | RunStatus::AwaitingApproval | RunStatus::Paused
                ) {
                    return Err(format!("the run is {}", self.status));
                }
                let i = index(step)?;
                let s = &self.steps[i];
                match &s.lease {
                    Some(lease) if lease.fencing_token == *fencing_token => Ok(i),
                    Some(lease) => Err(format!(
                        "stale fencing token {fencing_token} for step '{step}' (current {})",
                        lease.fencing_token
                    )),
                    None => Err(format!("step '{step}' is {}, not leased", s.status)),
                }
            })()),
            _ => None,
        }
    }

    fn index(&self, event: &RunEvent, key: &str) -> Result<usize, ApplyError> {
        self.steps
            .iter()
            .position(|s| s.key == key)
            .ok_or_else(|| refuse(event, format!("unknown step '{key}'")))
    }

    /// Turns decided events into the next entries of the log: numbers them from `last_seq`,
    /// stamps them with `at`, applies them, and returns them for storing. Stops at the first
    /// one that cannot follow (the events before it stay applied).
    pub fn append(
        &mut self,
        kinds: impl IntoIterator<Item = EventKind>,
        at: DateTime<Utc>,
    ) -> Result<Vec<RunEvent>, ApplyError> {
        let mut appended = Vec::new();
        for kind in kinds {
            let event = RunEvent {
                seq: self.last_seq + 1,
                at,
                kind,
            };
            self.apply(&event)?;
            appended.push(event);
        }
        Ok(appended)
    }

    /// Applies one event.
    pub fn apply(&mut self, event: &RunEvent) -> Result<(), ApplyError> {
        if event.seq != self.last_seq + 1 {
            return Err(refuse(
                event,
                format!("expected seq {}, got {}", self.last_seq + 1, event.seq),
            ));
        }
        if self.status.is_final() {
            return Err(refuse(event, format!("the run is already {}", self.status)));
        }
        let require_run = |allowed: &[RunStatus], status: RunStatus| {
            if allowed.contains(&status) {
                Ok(())
            } else {
                Err(refuse(event, format!("the run is {status}")))
            }
        };
        let active = [
            RunStatus::Running,
            RunStatus::AwaitingApproval,
            RunStatus::Paused,
        ];
        match &event.kind {
            EventKind::RunCreated { .. } => {
                return Err(refuse(event, "the run already exists".into()));
            }
            EventKind::RunStarted => {
                require_run(&[RunStatus::Queued], self.status)?;
                self.status = RunStatus::Running;
                self.promote();
            }
            EventKind::RunPaused { .. } => {
                require_run(
                    &[RunStatus::Running, RunStatus::AwaitingApproval],
                    self.status,
                )?;
                self.status = RunStatus::Paused;
            }
            EventKind::RunResumed { .. } => {
                require_run(&[RunStatus::Paused], self.status)?;
                self.status = RunStatus::Running;
            }
            EventKind::StepLeased {
                attempt,
                worker,
                fencing_token,
                lease_expires_at,
                ..
            } => {
                let i = self
                    .hot_check(&event.kind)
                    .unwrap_or_else(|| Err("not a lease".into()))
                    .map_err(|reason| refuse(event, reason))?;
                let s = &mut self.steps[i];
                s.status = StepStatus::Leased;
                s.attempt = *attempt;
                s.not_before = None;
                s.lease = Some(Lease {
                    worker: worker.clone(),
                    fencing_token: *fencing_token,
                    expires_at: *lease_expires_at,
                });
                self.next_fencing_token += 1;
            }
            EventKind::LeaseExtended {
                step,
                fencing_token,
                lease_expires_at,
            } => {
                require_run(&active, self.status)?;
                let i = self.index(event, step)?;
                let lease = held_lease(event, &mut self.steps[i], *fencing_token)?;
                lease.expires_at = *lease_expires_at;
            }
            EventKind::StepSucceeded { output, .. } => {
                let i = self
                    .hot_check(&event.kind)
                    .unwrap_or_else(|| Err("not a success".into()))
                    .map_err(|reason| refuse(event, reason))?;
                let s = &mut self.steps[i];
                s.status = StepStatus::Succeeded;
                s.lease = None;
                s.output = Some(output.clone());
                s.error = None;
                s.completed_seq = Some(event.seq);
                self.promote();
            }
            EventKind::StepFailed {
                step,
                fencing_token,
                error,
                retry_at,
            } => {
                require_run(&active, self.status)?;
                let i = self.index(event, step)?;
                held_lease(event, &mut self.steps[i], *fencing_token)?;
                self.requeue_or_fail(i, Some(error.clone()), *retry_at, event)?;
            }
            EventKind::LeaseExpired {
                step,
                fencing_token,
                retry_at,
            } => {
                require_run(&active, self.status)?;
                let i = self.index(event, step)?;
                held_lease(event, &mut self.steps[i], *fencing_token)?;
                let error = format!("lease expired (attempt {})", self.steps[i].attempt);
                self.requeue_or_fail(i, Some(error), *retry_at, event)?;
            }
            EventKind::StepApproved {
                step,
                by,
                rationale,
            }
            | EventKind::StepRejected {
                step,
                by,
                rationale,
            } => {
                require_run(&active, self.status)?;
                let approved = matches!(event.kind, EventKind::StepApproved { .. });
                let i = self.index(event, step)?;
                let s = &mut self.steps[i];
                expect_step(event, s, StepStatus::AwaitingApproval)?;
                s.approval = Some(Approval {
                    approved,
                    by: by.clone(),
                    rationale: rationale.clone(),
                });
                if approved {
                    s.status = StepStatus::Ready;
                } else {
                    s.status = StepStatus::Failed;
                    s.error = Some(format!("rejected by {by}: {rationale}"));
                }
            }
            EventKind::CompensationStarted { reason, steps } => {
                require_run(&active, self.status)?;
                for key in steps {
                    let i = self.index(event, key)?;
                    expect_step(event, &self.steps[i], StepStatus::Succeeded)?;
                }
                self.status = RunStatus::Compensating;
                self.reason = Some(reason.clone());
                self.compensation_queue = steps.clone();
                self.skip_unfinished();
            }
            EventKind::StepCompensated { step, error } => {
                require_run(&[RunStatus::Compensating], self.status)?;
                if self.compensation_queue.first() != Some(step) {
                    return Err(refuse(
                        event,
                        format!(
                            "'{step}' is not next to compensate ({:?})",
                            self.compensation_queue
                        ),
                    ));
                }
                self.compensation_queue.remove(0);
                let i = self.index(event, step)?;
                let s = &mut self.steps[i];
                match error {
                    None => {
                        s.status = StepStatus::Compensated;
                        self.compensated.push(step.clone());
                    }
                    Some(e) => s.compensation_error = Some(e.clone()),
                }
            }
            EventKind::RunSucceeded => {
                require_run(&active, self.status)?;
                if let Some(s) = self
                    .steps
                    .iter()
                    .find(|s| s.status != StepStatus::Succeeded)
                {
                    return Err(refuse(event, format!("step '{}' is {}", s.key, s.status)));
                }
                self.status = RunStatus::Succeeded;
            }
            EventKind::RunFailed { reason, .. } => {
                if !self.compensation_queue.is_empty() {
                    return Err(refuse(event, "compensations are still pending".into()));
                }
                self.status = RunStatus::Failed;
                self.reason = Some(reason.clone());
                self.skip_unfinished();
            }
            EventKind::RunCancelled { by, reason } => {
                self.status = RunStatus::Cancelled;
                self.reason = Some(format!("cancelled by {by}: {reason}"));
                self.skip_unfinished();
            }
        }
        self.last_seq = event.seq;
        self.updated_at = event.at;
        self.settle();
        Ok(())
    }

    /// A failed attempt: ready again at `retry_at`, or failed for good.
    fn requeue_or_fail(
        &mut self,
        i: usize,
        error: Option<String>,
        retry_at: Option<DateTime<Utc>>,
        event: &RunEvent,
    ) -> Result<(), ApplyError> {
        let s = &mut self.steps[i];
        s.lease = None;
        s.error = error;
        match retry_at {
            Some(at) => {
                if s.attempt >= s.max_attempts {
                    return Err(refuse(
                        event,
                        format!("no attempts left after {}", s.attempt),
                    ));
                }
                s.status = StepStatus::Ready;
                s.not_before = Some(at);
            }
            None => s.status = StepStatus::Failed,
        }
        Ok(())
    }

    /// Pending steps whose dependencies all succeeded become ready, or wait for approval.
    fn promote(&mut self) {
        for i in 0..self.steps.len() {
            let ready = self.steps[i].status == StepStatus::Pending
                && self.steps[i]
                    .deps
                    .iter()
                    .all(|&d| self.steps[d].status == StepStatus::Succeeded);
            if ready {
                let s = &mut self.steps[i];
                s.status = if s.risk >= self.approval_threshold {
                    StepStatus::AwaitingApproval
                } else {
                    StepStatus::Ready
                };
            }
        }
    }

    /// Steps that have not finished will not run: the run ended or is unwinding.
    fn skip_unfinished(&mut self) {
        for s in &mut self.steps {
            if matches!(
                s.status,
                StepStatus::Pending
                    | StepStatus::Ready
                    | StepStatus::AwaitingApproval
                    | StepStatus::Leased
            ) {
                s.status = StepStatus::Skipped;
                s.lease = None;
            }
        }
    }

    /// `running` and `awaiting_approval` follow the steps: the run waits for a person when
    /// nothing can move without one.
    fn settle(&mut self) {
        if !matches!(
            self.status,
            RunStatus::Running | RunStatus::AwaitingApproval
        ) {
            return;
        }
        let waiting = self
            .steps
            .iter()
            .any(|s| s.status == StepStatus::AwaitingApproval);
        let moving = self
            .steps
            .iter()
            .any(|s| matches!(s.status, StepStatus::Ready | StepStatus::Leased));
        self.status = if waiting && !moving {
            RunStatus::AwaitingApproval
        } else {
            RunStatus::Running
        };
    }
}

fn refuse(event: &RunEvent, reason: String) -> ApplyError {
    ApplyError {
        seq: event.seq,
        kind: event.kind.name(),
        reason,
    }
}

fn expect_step(event: &RunEvent, step: &StepState, expected: StepStatus) -> Result<(), ApplyError> {
    if step.status == expected {
        Ok(())
    } else {
        Err(refuse(
            event,
            format!("step '{}' is {}, not {expected}", step.key, step.status),
        ))
    }
}

/// The step's lease, if `token` is the one it holds; a stale token is refused.
fn held_lease<'s>(
    event: &RunEvent,
    step: &'s mut StepState,
    token: u64,
) -> Result<&'s mut Lease, ApplyError> {
    let key = step.key.clone();
    let status = step.status;
    match step.lease.as_mut() {
        Some(lease) if lease.fencing_token == token => Ok(lease),
        Some(lease) => Err(refuse(
            event,
            format!(
                "stale fencing token {token} for step '{key}' (current {})",
                lease.fencing_token
            ),
        )),
        None => Err(refuse(
            event,
            format!("step '{key}' is {status}, not leased"),
        )),
    }
}
