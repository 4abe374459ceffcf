//! The events a run's log is made of. A run's state is the fold of its events
//! (the orchestrator's `RunState::replay`); the tables holding current state are a cache of that
//! fold. Events carry everything the fold needs (thresholds, timestamps, tokens), so replaying
//! a log gives the same state on any machine, at any time.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::plan::Plan;

/// One entry of a run's append-only log.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RunEvent {
    /// Position in the run's log, from 1, without gaps.
    pub seq: u64,
    pub at: DateTime<Utc>,
    #[serde(flatten)]
    pub kind: EventKind,
}

/// What happened. Serialized with a `kind` tag, e.g. `{"kind": "step_leased", …}`.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum EventKind {
    /// The run exists, with a validated plan. Steps whose risk is at or above
    /// `approval_threshold` will wait for a person. A run whose goal could not be planned has
    /// no steps, and `run_failed` follows at once.
    RunCreated {
        plan: Plan,
        /// Each step's effective risk, in plan order.
        risks: Vec<f64>,
        approval_threshold: f64,
        priority: i32,
        /// The project the run belongs to; who may see it follows from this. Logs written
        /// before projects existed belong to [`crate::DEFAULT_PROJECT`].
        #[serde(default = "crate::default_project")]
        project: String,
        /// Who started it (a user's id, or `local-operator`), for their notifications; absent
        /// for runs started by API keys, by other runs, or before this was recorded.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        started_by: Option<String>,
        /// The words the run was planned from; absent for a run submitted with a plan.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        goal: Option<String>,
    },
    RunStarted,
    RunPaused {
        by: String,
    },
    RunResumed {
        by: String,
    },
    /// A worker took a ready step. `fencing_token` is unique within the run and increases.
    StepLeased {
        step: String,
        attempt: u32,
        worker: String,
        fencing_token: u64,
        lease_expires_at: DateTime<Utc>,
    },
    /// The lease was renewed by heartbeat.
    LeaseExtended {
        step: String,
        fencing_token: u64,
        lease_expires_at: DateTime<Utc>,
    },
    StepSucceeded {
        step: String,
        fencing_token: u64,
        #[cfg_attr(feature = "openapi", schema(value_type = Object))]
        output: Value,
    },
    /// An attempt failed. With `retry_at` the step becomes ready again at that time; without,
    /// it failed for good.
    StepFailed {
        step: String,
        fencing_token: u64,
        error: String,
        retry_at: Option<DateTime<Utc>>,
    },
    /// The lease ran out without a completion: the worker is presumed dead.
    LeaseExpired {
        step: String,
        fencing_token: u64,
        retry_at: Option<DateTime<Utc>>,
    },
    StepApproved {
        step: String,
        by: String,
        rationale: String,
    },
    StepRejected {
        step: String,
        by: String,
        rationale: String,
    },
    /// The run failed and these completed steps will be compensated, in this order (reverse
    /// completion order).
    CompensationStarted {
        reason: String,
        steps: Vec<String>,
    },
    StepCompensated {
        step: String,
        error: Option<String>,
    },
    RunSucceeded,
    RunFailed {
        reason: String,
        compensated: Vec<String>,
    },
    RunCancelled {
        by: String,
        reason: String,
    },
}

impl EventKind {
    /// The tag, as stored in the `kind` column.
    /// Whether this event ends its run (succeeded, failed or cancelled).
    pub fn ends_run(&self) -> bool {
        matches!(
            self,
            Self::RunSucceeded | Self::RunFailed { .. } | Self::RunCancelled { .. }
        )
    }

    pub fn name(&self) -> &'static str {
        match self {
            Self::RunCreated { .. } => "run_created",
            Self::RunStarted => "run_started",
            Self::RunPaused { .. } => "run_paused",
            Self::RunResumed { .. } => "run_resumed",
            Self::StepLeased { .. } => "step_leased",
            Self::LeaseExtended { .. } => "lease_extended",
            Self::StepSucceeded { .. } => "step_succeeded",
            Self::StepFailed { .. } => "step_failed",
            Self::LeaseExpired { .. } => "lease_expired",
            Self::StepApproved { .. } => "step_approved",
            Self::StepRejected { .. } => "step_rejected",
            Self::CompensationStarted { .. } => "compensation_started",
            Self::StepCompensated { .. } => "step_compensated",
            Self::RunSucceeded => "run_succeeded",
            Self::RunFailed { .. } => "run_failed",
            Self::RunCancelled { .. } => "run_cancelled",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn events_serialize_with_their_kind_tag() {
        let event = RunEvent {
            seq: 3,
            at: DateTime::from_timestamp(1_800_000_000, 0).unwrap(),
            kind: EventKind::StepApproved {
                step: "deploy".into(),
                by: "ada".into(),
                rationale: "reviewed".into(),
            },
        };
        let json = serde_json::to_value(&event).unwrap();
        assert_eq!(json["kind"], "step_approved");
        assert_eq!(json["kind"], event.kind.name());
        assert_eq!(json["seq"], 3);
        assert_eq!(json["step"], "deploy");
        let back: RunEvent = serde_json::from_value(json).unwrap();
        assert_eq!(back, event);
    }
}
