//! `/api/v1/runs` and `/api/v1/approvals`: what a client sends and what it gets back.
//!
//! The server answers with these types and the CLI reads them, so the two cannot drift; the
//! OpenAPI document is derived from them (feature `openapi`).

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::event::RunEvent;
use crate::plan::Plan;
use crate::status::{RunStatus, StepStatus};

/// The longest goal accepted, in characters.
pub const MAX_GOAL_CHARS: usize = 10_000;

/// `POST /api/v1/runs`: a plan, or a goal for the model to plan. Exactly one of the two.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SubmitRun {
    /// The steps to run. Give a plan or a goal, not both.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub plan: Option<Plan>,
    /// A goal in words, planned by the default model (or `planner_model`) into a validated
    /// plan; how it was planned is kept (`GET /api/v1/runs/{id}/planning`). 1 to
    /// [`MAX_GOAL_CHARS`] characters, not blank.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(
        feature = "openapi",
        schema(
            min_length = 1,
            max_length = 10_000,
            pattern = "[^\\t-\\r \\x85\\xa0\\u1680\\u2000-\\u200a\\u2028\\u2029\\u202f\\u205f\\u3000]"
        )
    )]
    pub goal: Option<String>,
    /// Higher runs first when steps compete for workers. Default 0.
    #[serde(default, deserialize_with = "crate::whole::integer")]
    pub priority: i32,
    /// The project the run belongs to. Default: an API key's project, or the caller's only
    /// project, or `default`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", schema(pattern = "^[a-z0-9_-]{1,64}$"))]
    pub project: Option<String>,
}

/// `POST /api/v1/runs`'s answer.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RunCreated {
    pub id: String,
    /// For a goal: the plan the model wrote and the attempts it took.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub planned: Option<Planned>,
}

/// What planning a goal produced.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Planned {
    pub model: String,
    /// The model's tries (0 when the plan came from the cache).
    pub attempts: usize,
    /// Whether the semantic plan cache supplied the plan.
    pub cache_hit: bool,
    pub plan: Plan,
}

/// How planning a goal is going, for the tab that asked to follow it over its live socket
/// (`{"planning": ID}`): each change replaces the last.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PlanningProgress {
    pub stage: PlanningStage,
    /// The model planning (empty before it is known).
    pub model: String,
    /// Whether the plan cache answered; `None` while it is asked, or when it is off.
    pub cache_hit: Option<bool>,
    /// For a cache hit: how alike the cached goal and this one are (0 to 1).
    pub similarity: Option<f32>,
    /// The model's try under way, from 1 (0 before the first).
    pub attempt: u32,
    pub max_attempts: u32,
    /// Tokens of this try so far: pieces streamed while it writes, the model's own count
    /// once it has finished.
    pub tokens: u32,
    /// This try's answer so far (its last [`PLANNING_ANSWER_CHARS`] characters).
    pub answer: String,
    /// Why each earlier try was refused, one list of problems per try.
    pub refused: Vec<Vec<String>>,
    /// Why planning stopped, for [`PlanningStage::Failed`].
    pub error: Option<String>,
}

/// The most characters of a try's answer a [`PlanningProgress`] carries.
pub const PLANNING_ANSWER_CHARS: usize = 2_000;

/// Where planning a goal stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PlanningStage {
    /// Asking the plan cache for a plan of a goal like this one.
    Cache,
    /// The model is writing a try.
    Writing,
    /// A finished try is checked against the catalog and limits.
    Checking,
    /// A plan passed: the run is being started.
    Planned,
    /// No plan: every try was refused, or the model failed.
    Failed,
}

impl PlanningStage {
    /// Whether nothing follows this stage.
    pub fn is_final(self) -> bool {
        matches!(self, Self::Planned | Self::Failed)
    }
}

/// `GET /api/v1/runs`'s answer: a page of runs, newest first.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RunList {
    pub runs: Vec<RunSummary>,
    /// Pass as `before` for the next page; absent on the last page.
    pub next: Option<String>,
}

/// One line of a run listing.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RunSummary {
    pub id: String,
    pub status: RunStatus,
    pub priority: i32,
    /// Events recorded so far.
    pub events: u64,
    pub reason: Option<String>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub project: String,
    /// The words it was planned from; `null` for a run submitted with a plan.
    #[serde(default)]
    pub goal: Option<String>,
}

/// `GET /api/v1/runs/{id}/events`'s answer.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EventList {
    pub events: Vec<RunEvent>,
}

/// Body of approve and reject.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Decision {
    /// Why: recorded with the decision. Required, not blank.
    #[cfg_attr(
        feature = "openapi",
        schema(
            min_length = 1,
            pattern = "[^\\t-\\r \\x85\\xa0\\u1680\\u2000-\\u200a\\u2028\\u2029\\u202f\\u205f\\u3000]"
        )
    )]
    pub rationale: String,
}

/// Optional body of cancel, pause and resume.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Reason {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

/// `GET /api/v1/runs/{id}`'s answer: a run's state, as its log folds to.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RunView {
    pub status: RunStatus,
    pub plan: Plan,
    /// In plan order.
    pub steps: Vec<StepView>,
    pub priority: i32,
    pub project: String,
    /// Who started it (a user's id, or `local-operator`); `null` for runs started by an API
    /// key or another run.
    #[serde(default)]
    pub started_by: Option<String>,
    /// The words the run was planned from; `null` for a run submitted with a plan.
    #[serde(default)]
    pub goal: Option<String>,
    /// Steps whose risk is at or above it wait for a person.
    pub approval_threshold: f64,
    /// `seq` of the last event applied.
    pub last_seq: u64,
    /// The fencing token the next lease gets.
    pub next_fencing_token: u64,
    /// Steps still to compensate, in order.
    pub compensation_queue: Vec<String>,
    pub compensated: Vec<String>,
    /// Why the run failed or was cancelled.
    pub reason: Option<String>,
    pub updated_at: DateTime<Utc>,
}

/// One step of [`RunView`].
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StepView {
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
    pub lease: Option<LeaseView>,
    #[cfg_attr(feature = "openapi", schema(value_type = Option<Object>))]
    pub output: Option<Value>,
    pub error: Option<String>,
    pub approval: Option<ApprovalView>,
    /// `seq` of the event that completed the step: orders the saga.
    pub completed_seq: Option<u64>,
    pub compensation_error: Option<String>,
}

/// A worker's hold on a step.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LeaseView {
    pub worker: String,
    pub fencing_token: u64,
    pub expires_at: DateTime<Utc>,
}

/// A person's decision on a risky step.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ApprovalView {
    pub approved: bool,
    pub by: String,
    pub rationale: String,
}

/// A step waiting for a person (`GET /api/v1/approvals`).
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PendingApproval {
    pub run_id: String,
    pub step: String,
    pub agent: String,
    pub tool: String,
    pub risk: f64,
    #[cfg_attr(feature = "openapi", schema(value_type = Object))]
    pub input: Value,
    /// Since when it waits (RFC 3339, UTC): when its last dependency finished, or the run
    /// started. Text, not a parsed time, so the browser bundle needs no date parser.
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schema(format = DateTime))]
    pub waiting_since: Option<String>,
}

/// `POST /api/v1/notifications/read`: which notifications to mark read.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MarkRead {
    /// Notification ids; empty or absent: all of the caller's.
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schema(max_items = 500))]
    pub ids: Vec<String>,
}
