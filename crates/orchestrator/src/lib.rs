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

pub mod catalog;
pub mod graph;
pub mod plan;
pub mod template;
pub mod validate;

pub use catalog::{AgentSpec, Catalog, CatalogError, ToolSpec};
pub use plan::{Compensation, Plan, RetryPolicy, StepSpec};
pub use validate::{Limits, PlanProblem, PlanProblems, ValidPlan, validate};
