//! A run's events as its page lists them: one line each, with the step it is about.

use switchyard_orchestrator::{EventKind, RunEvent};
use switchyard_protocol::EventRow;

/// `event` as a row of the run's history.
pub fn row(event: &RunEvent) -> EventRow {
    let (step, detail) = match &event.kind {
        EventKind::RunCreated {
            plan,
            approval_threshold,
            project,
            ..
        } => (
            None,
            format!(
                "{} steps in project {project}; approval at risk ≥ {approval_threshold}",
                plan.steps.len()
            ),
        ),
        EventKind::RunStarted | EventKind::RunSucceeded => (None, String::new()),
        EventKind::RunPaused { by } | EventKind::RunResumed { by } => (None, format!("by {by}")),
        EventKind::StepLeased {
            step,
            attempt,
            worker,
            ..
        } => (Some(step), format!("attempt {attempt} on {worker}")),
        EventKind::LeaseExtended {
            step,
            lease_expires_at,
            ..
        } => (
            Some(step),
            format!("lease until {}", lease_expires_at.format("%H:%M:%S")),
        ),
        EventKind::StepSucceeded { step, .. } => (Some(step), String::new()),
        EventKind::StepFailed {
            step,
            error,
            retry_at,
            ..
        } => (
            Some(step),
            match retry_at {
                Some(at) => format!("{error} (retry at {})", at.format("%H:%M:%S%.3f")),
                None => error.clone(),
            },
        ),
        EventKind::LeaseExpired { step, retry_at, .. } => (
            Some(step),
            match retry_at {
                Some(at) => format!(
                    "the worker went quiet; retry at {}",
                    at.format("%H:%M:%S%.3f")
                ),
                None => "the worker went quiet; no attempts left".to_owned(),
            },
        ),
        EventKind::StepApproved {
            step,
            by,
            rationale,
        }
        | EventKind::StepRejected {
            step,
            by,
            rationale,
        } => (Some(step), format!("by {by}: {rationale}")),
        EventKind::CompensationStarted { reason, steps } => {
            (None, format!("{reason}; undoing {}", steps.join(", ")))
        }
        EventKind::StepCompensated { step, error } => (
            Some(step),
            error
                .clone()
                .map(|e| format!("undo failed: {e}"))
                .unwrap_or_default(),
        ),
        EventKind::RunFailed {
            reason,
            compensated,
        } => (
            None,
            if compensated.is_empty() {
                reason.clone()
            } else {
                format!("{reason}; undone: {}", compensated.join(", "))
            },
        ),
        EventKind::RunCancelled { by, reason } => (None, format!("by {by}: {reason}")),
    };
    EventRow {
        seq: event.seq,
        at: event
            .at
            .to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
        kind: event.kind.name().to_owned(),
        step: step.cloned(),
        detail,
    }
}
