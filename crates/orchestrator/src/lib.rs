//! Switchyard's orchestrator: a run is a DAG of steps, each executed by a tool on behalf of an
//! agent. This crate holds the engine's model and rules and never depends on Leptos or HTTP.
//!
//! # Layout
//!
//! - [`plan`]: the plan a run executes, as JSON: steps with key, agent, tool, input,
//!   `depends_on`, retry policy, timeout, risk and an optional compensation.
//! - [`catalog`]: what a plan may name: tools (name, input JSON Schema, default risk) and
//!   agents (name, allowed tools).
//! - [`template`]: `{{steps.KEY.output.PATH}}` references from one step's input to an earlier
//!   step's output.
//! - [`validate`]: checks a plan against a catalog and reports *every* problem at once, each
//!   with the step key and field it concerns; a plan that passes becomes a
//!   [`validate::ValidPlan`] with its execution order.
//! - [`graph`]: dependency-graph helpers: topological order, ancestors, naming a cycle.
//! - [`status`]: run and step statuses and the state machine between them.
//! - [`event`]: the events of a run's append-only log.
//! - [`state`]: a run's state as the fold of its events; `replay` rebuilds it from the log.
//! - [`view`]: a run's state as the API shows it.
//! - [`decide`]: commands (lease, succeed, fail, approve, pause, cancel …) turned into events,
//!   or refused with a reason; the saga's order is decided here.
//! - [`retry`]: exponential backoff with jitter.
//! - [`leases`]: the lease history of a run's log, refused if two leases on a step overlap.
//! - [`tools`]: the [`tools::Tool`] trait with typed retry decisions, and the built-in tools
//!   (`noop`, `sleep`, `fail`, `approval`, `http`, `subrun`).
//!
//! - [`runlog`]: runs, step rows and event logs in SQLite or PostgreSQL, written in batches
//!   with optimistic concurrency and ownership fences; which engine owns which run
//!   (`runlog::workers`); what a commit notifies other engines of (`runlog::notify`); `verify`
//!   replays a log against the stored state.
//!
//! - [`engine`]: runs plans: one coordinator per process batches decisions into one commit,
//!   starts ready steps within global, per-run and per-agent limits, renews leases by
//!   heartbeat, retries, runs the saga, and resumes unfinished runs after a restart. Several
//!   processes on one PostgreSQL share the runs (claims with `SKIP LOCKED`, wake-ups by
//!   `LISTEN/NOTIFY`).

// `on_pool!`: one query text on whichever pool the database holds.
#[macro_use]
extern crate switchyard_db;

pub mod catalog;
pub mod decide;
pub mod engine;
pub mod event;
pub mod graph;
pub mod leases;
pub mod plan;
pub mod retry;
pub mod runlog;
pub mod state;
pub mod status;
pub mod template;
pub mod tools;
pub mod validate;
pub mod view;

pub use switchyard_protocol::{DEFAULT_PROJECT, default_project};

pub use catalog::{AgentSpec, Catalog, CatalogError, ToolSpec};
pub use event::{EventKind, RunEvent};
pub use plan::{Compensation, Plan, RetryPolicy, StepSpec};
pub use state::RunState;
pub use status::{RunStatus, StepStatus};
pub use validate::{Limits, PlanProblem, PlanProblems, ValidPlan, validate};
