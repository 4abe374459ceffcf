//! Wire types shared by the Switchyard server, its CLI and the browser: the REST API's bodies,
//! the plans and events of runs, and what the pages show.
//!
//! # Layout
//!
//! - [`plan`]: the plan a run executes (steps, retries, compensation), as JSON.
//! - [`status`]: run and step statuses.
//! - [`event`]: the events of a run's append-only log.
//! - [`api`]: the REST API's request bodies and answers.
//! - [`whole`]: integers in request bodies that JSON may carry as `23.0`.
//! - [`account`]: who a browser session belongs to.
//! - [`admin`]: what the admin page shows.
//! - [`health`]: the `GET /api/v1/health` document.
//! - [`chat`]: orchestrator-panel modes and the prompt length limit that the UI and the API
//!   both enforce.
//! - [`runs`]: runs as the web app lists them.
//! - [`query`]: what the search index found (query mode, the top bar's search).
//! - [`dataset`]: checks of uploaded tables (kinds, problems, quality scores) and the datasets
//!   written from them.
//!
//! This crate does no I/O and compiles to `wasm32-unknown-unknown`; anything that needs a
//! socket, a file or a clock belongs in a server crate.

pub mod account;
pub mod admin;
pub mod api;
pub mod chat;
pub mod conversation;
pub mod dataset;
pub mod event;
pub mod health;
pub mod plan;
pub mod query;
pub mod runs;
pub mod status;
pub mod whole;

pub use account::Account;
pub use chat::{ChatMode, MAX_PROMPT_CHARS, prompt_chars};
pub use event::{EventKind, RunEvent};
pub use health::{
    DatabaseHealth, DatabaseKind, Health, HealthStatus, InferenceHealth, ModelHealth,
    PlanCacheHealth, ServiceHealth, StoreHealth,
};
pub use plan::{Compensation, Plan, RetryPolicy, StepSpec};
pub use runs::{
    BulkOutcome, EventRow, Notification, Notifications, PlanAttemptView, PlanIssue, PlanningView,
    RunDetail, RunRow, RunRows, SearchHit, StepDetail,
};
pub use status::{RunStatus, StepStatus};

/// The project runs belong to unless their submitter names another.
pub const DEFAULT_PROJECT: &str = "default";

/// [`DEFAULT_PROJECT`], owned (for serde defaults).
pub fn default_project() -> String {
    DEFAULT_PROJECT.to_owned()
}
