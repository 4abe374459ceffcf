//! Commands: what a worker, a person or the engine asks of a run, turned into the events that
//! record it, or refused with a reason a client can act on.
//!
//! Every command is checked by applying its events to a copy of the state, so the rules live
//! in one place, the fold in [`crate::state`]. A command's follow-ups are decided here too:
//! the last step succeeding ends the run; a step failing for good (or rejected) starts the
//! saga, compensating completed steps in reverse completion order, or fails the run at once
//! when there is nothing to compensate.
//!
//! When a run starts compensating, steps still leased are marked skipped and a late completion
//! from their workers is refused; their effects are not compensated.

use std::time::Duration;

use chrono::{DateTime, Utc};
use serde_json::Value;

use crate::event::EventKind;
use crate::retry::backoff;
use crate::state::RunState;
use crate::status::StepStatus;
use crate::validate::ValidPlan;

/// Risk at or above which a step waits for approval, unless configured otherwise.
pub const DEFAULT_APPROVAL_THRESHOLD: f64 = 0.7;

/// A command that cannot be carried out; nothing was recorded.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CommandError {
    /// The run has no such step (answer 404).
    #[error("unknown step '{0}'")]
    UnknownStep(String),
    /// The run or step is not in a state that allows this (answer 409).
    #[error("{0}")]
    Conflict(String),
}

/// Where a new run comes from, as its first event records it.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Origin {
    /// Higher runs first.
    pub priority: i32,
    /// The project it belongs to.
    pub project: String,
    /// Who started it (a user's id, or `local-operator`).
    pub started_by: Option<String>,
    /// The words it was planned from.
    pub goal: Option<String>,
}

/// The first event of a run.
pub fn create(plan: ValidPlan, approval_threshold: f64, origin: Origin) -> EventKind {
    EventKind::RunCreated {
        plan: plan.plan,
        risks: plan.risks,
        approval_threshold,
        priority: origin.priority,
        project: origin.project,
        started_by: origin.started_by,
        goal: origin.goal,
    }
}

/// The first event of a run whose goal could not be planned: it has no steps, and
/// [`fail_unplanned`] ends it at once.
pub fn create_unplanned(approval_threshold: f64, origin: Origin) -> EventKind {
    EventKind::RunCreated {
        plan: crate::plan::Plan { steps: Vec::new() },
        risks: Vec::new(),
        approval_threshold,
        priority: origin.priority,
        project: origin.project,
        started_by: origin.started_by,
        goal: origin.goal,
    }
}

/// Ends a run created by [`create_unplanned`], with why no plan was made.
pub fn fail_unplanned(state: &RunState, reason: &str) -> Result<Vec<EventKind>, CommandError> {
    checked(
        state,
        vec![EventKind::RunFailed {
            reason: reason.to_owned(),
            compensated: Vec::new(),
        }],
    )
}

pub fn start(state: &RunState) -> Result<Vec<EventKind>, CommandError> {
    checked(state, vec![EventKind::RunStarted])
}

/// A worker takes a ready step for `lease_for`.
pub fn lease(
    state: &RunState,
    step: &str,
    worker: &str,
    now: DateTime<Utc>,
    lease_for: Duration,
) -> Result<Vec<EventKind>, CommandError> {
    let s = find(state, step)?;
    if let Some(at) = s.not_before
        && at > now
    {
        return Err(CommandError::Conflict(format!(
            "step '{step}' waits until {at} before its next attempt"
        )));
    }
    checked(
        state,
        vec![EventKind::StepLeased {
            step: step.to_owned(),
            attempt: s.attempt + 1,
            worker: worker.to_owned(),
            fencing_token: state.next_fencing_token,
            lease_expires_at: now + lease_for,
        }],
    )
}

/// Heartbeat: the worker holding `fencing_token` keeps the step for `lease_for` more.
pub fn heartbeat(
    state: &RunState,
    step: &str,
    fencing_token: u64,
    now: DateTime<Utc>,
    lease_for: Duration,
) -> Result<Vec<EventKind>, CommandError> {
    find(state, step)?;
    checked(
        state,
        vec![EventKind::LeaseExtended {
            step: step.to_owned(),
            fencing_token,
            lease_expires_at: now + lease_for,
        }],
    )
}

/// The attempt holding `fencing_token` produced `output`.
pub fn succeed(
    state: &RunState,
    step: &str,
    fencing_token: u64,
    output: Value,
) -> Result<Vec<EventKind>, CommandError> {
    find(state, step)?;
    let first = EventKind::StepSucceeded {
        step: step.to_owned(),
        fencing_token,
        output,
    };
    let after = simulate(state, std::slice::from_ref(&first))?;
    let mut events = vec![first];
    if after
        .steps
        .iter()
        .all(|s| s.status == StepStatus::Succeeded)
    {
        events.push(EventKind::RunSucceeded);
    }
    checked(state, events)
}

/// The attempt holding `fencing_token` failed. Retried after backoff while attempts remain and
/// the error is `retryable`; otherwise the run fails (after compensation).
pub fn fail(
    state: &RunState,
    step: &str,
    fencing_token: u64,
    error: &str,
    retryable: bool,
    now: DateTime<Utc>,
    jitter: f64,
) -> Result<Vec<EventKind>, CommandError> {
    fail_after(
        state,
        step,
        fencing_token,
        error,
        retryable,
        None,
        now,
        jitter,
    )
}

/// [`fail`], with the wait before the retry given by the other side (`Retry-After`) instead
/// of the step's backoff, when it said.
#[allow(clippy::too_many_arguments)]
pub fn fail_after(
    state: &RunState,
    step: &str,
    fencing_token: u64,
    error: &str,
    retryable: bool,
    wait: Option<Duration>,
    now: DateTime<Utc>,
    jitter: f64,
) -> Result<Vec<EventKind>, CommandError> {
    let retry_at = retry_time(state, step, retryable, now, jitter)?.map(|backoff_at| match wait {
        Some(wait) => now + chrono::Duration::from_std(wait).unwrap_or_default(),
        None => backoff_at,
    });
    let first = EventKind::StepFailed {
        step: step.to_owned(),
        fencing_token,
        error: error.to_owned(),
        retry_at,
    };
    with_failure_follow_up(state, first, retry_at.is_none(), || {
        format!("step '{step}' failed: {error}")
    })
}

/// The lease on `step` ran out: the attempt is presumed lost and retried (attempts permitting).
pub fn expire_lease(
    state: &RunState,
    step: &str,
    now: DateTime<Utc>,
    jitter: f64,
) -> Result<Vec<EventKind>, CommandError> {
    end_lease(state, step, now, jitter, false)
}

/// The worker holding `step`'s lease is known to be gone (its engine stopped, crashed or lost
/// the run to another engine, which then fenced it out): the lease ends now, whatever time
/// it was granted until.
pub fn reclaim_lease(
    state: &RunState,
    step: &str,
    now: DateTime<Utc>,
    jitter: f64,
) -> Result<Vec<EventKind>, CommandError> {
    end_lease(state, step, now, jitter, true)
}

fn end_lease(
    state: &RunState,
    step: &str,
    now: DateTime<Utc>,
    jitter: f64,
    holder_gone: bool,
) -> Result<Vec<EventKind>, CommandError> {
    let s = find(state, step)?;
    let Some(lease) = &s.lease else {
        return Err(CommandError::Conflict(format!(
            "step '{step}' is {}, not leased",
            s.status
        )));
    };
    if lease.expires_at > now && !holder_gone {
        return Err(CommandError::Conflict(format!(
            "the lease on step '{step}' runs until {}",
            lease.expires_at
        )));
    }
    let retry_at = retry_time(state, step, true, now, jitter)?;
    let first = EventKind::LeaseExpired {
        step: step.to_owned(),
        fencing_token: lease.fencing_token,
        retry_at,
    };
    with_failure_follow_up(state, first, retry_at.is_none(), || {
        format!("step '{step}' lost its lease on the last attempt")
    })
}

pub fn approve(
    state: &RunState,
    step: &str,
    by: &str,
    rationale: &str,
) -> Result<Vec<EventKind>, CommandError> {
    find(state, step)?;
    checked(
        state,
        vec![EventKind::StepApproved {
            step: step.to_owned(),
            by: by.to_owned(),
            rationale: rationale.to_owned(),
        }],
    )
}

/// Rejecting a step fails the run and starts its saga.
pub fn reject(
    state: &RunState,
    step: &str,
    by: &str,
    rationale: &str,
) -> Result<Vec<EventKind>, CommandError> {
    find(state, step)?;
    let first = EventKind::StepRejected {
        step: step.to_owned(),
        by: by.to_owned(),
        rationale: rationale.to_owned(),
    };
    with_failure_follow_up(state, first, true, || {
        format!("step '{step}' was rejected by {by}: {rationale}")
    })
}

pub fn pause(state: &RunState, by: &str) -> Result<Vec<EventKind>, CommandError> {
    checked(state, vec![EventKind::RunPaused { by: by.to_owned() }])
}

pub fn resume(state: &RunState, by: &str) -> Result<Vec<EventKind>, CommandError> {
    checked(state, vec![EventKind::RunResumed { by: by.to_owned() }])
}

pub fn cancel(state: &RunState, by: &str, reason: &str) -> Result<Vec<EventKind>, CommandError> {
    checked(
        state,
        vec![EventKind::RunCancelled {
            by: by.to_owned(),
            reason: reason.to_owned(),
        }],
    )
}

/// The next compensation in the queue finished (`error` if it failed). The run fails when the
/// queue is empty.
pub fn compensated(
    state: &RunState,
    step: &str,
    error: Option<String>,
) -> Result<Vec<EventKind>, CommandError> {
    find(state, step)?;
    let first = EventKind::StepCompensated {
        step: step.to_owned(),
        error,
    };
    let after = simulate(state, std::slice::from_ref(&first))?;
    let mut events = vec![first];
    if after.compensation_queue.is_empty() {
        events.push(EventKind::RunFailed {
            reason: after.reason.clone().unwrap_or_default(),
            compensated: after.compensated.clone(),
        });
    }
    checked(state, events)
}

/// Adds the saga's start (or the run's failure) after `first` when it ends the step for good.
fn with_failure_follow_up(
    state: &RunState,
    first: EventKind,
    final_failure: bool,
    reason: impl FnOnce() -> String,
) -> Result<Vec<EventKind>, CommandError> {
    let after = simulate(state, std::slice::from_ref(&first))?;
    let mut events = vec![first];
    if final_failure {
        let reason = reason();
        let mut done: Vec<_> = after
            .steps
            .iter()
            .enumerate()
            .filter(|(i, s)| {
                s.status == StepStatus::Succeeded && after.plan.steps[*i].compensation.is_some()
            })
            .map(|(_, s)| (s.completed_seq, s.key.clone()))
            .collect();
        done.sort_by_key(|(completed, _)| std::cmp::Reverse(*completed));
        let steps: Vec<String> = done.into_iter().map(|(_, key)| key).collect();
        events.push(if steps.is_empty() {
            EventKind::RunFailed {
                reason,
                compensated: Vec::new(),
            }
        } else {
            EventKind::CompensationStarted { reason, steps }
        });
    }
    checked(state, events)
}

fn retry_time(
    state: &RunState,
    step: &str,
    retryable: bool,
    now: DateTime<Utc>,
    jitter: f64,
) -> Result<Option<DateTime<Utc>>, CommandError> {
    let s = find(state, step)?;
    if !retryable || s.attempt >= s.max_attempts {
        return Ok(None);
    }
    let index = state
        .steps
        .iter()
        .position(|x| x.key == step)
        .unwrap_or_default();
    let wait = backoff(&state.plan.steps[index].retry, s.attempt + 1, jitter);
    Ok(Some(
        now + chrono::Duration::from_std(wait).unwrap_or_default(),
    ))
}

fn find<'s>(state: &'s RunState, step: &str) -> Result<&'s crate::state::StepState, CommandError> {
    state
        .step(step)
        .ok_or_else(|| CommandError::UnknownStep(step.to_owned()))
}

/// Applies `events` to a copy of `state`; the fold's refusal becomes the command's.
fn simulate(state: &RunState, events: &[EventKind]) -> Result<RunState, CommandError> {
    let mut copy = state.clone();
    copy.append(events.iter().cloned(), state.updated_at)
        .map_err(|e| CommandError::Conflict(e.reason))?;
    Ok(copy)
}

fn checked(state: &RunState, events: Vec<EventKind>) -> Result<Vec<EventKind>, CommandError> {
    // A lone lease or success (the bulk of all decisions) is checked in place; anything else
    // is applied to a copy.
    if let [only] = events.as_slice()
        && let Some(verdict) = state.hot_check(only)
    {
        verdict.map_err(CommandError::Conflict)?;
        return Ok(events);
    }
    simulate(state, &events)?;
    Ok(events)
}
