//! Switchyard's planner: a goal in words into a validated plan, written by a local model
//! served by [`switchyard_inference::Host`]; and the orchestrator's `llm` tool on the same
//! host. The model host knows nothing of plans; this crate is where models meet the
//! orchestrator.
//!
//! # Layout
//!
//! - [`planner`]: goals into validated plans, under a JSON-schema constraint built from the
//!   catalog, retried with the validation problems; every prompt and answer recorded.
//! - [`plan_cache`]: the semantic plan cache: goals normalised into templates and
//!   parameters, templates embedded and matched by similarity, plans reused with the new
//!   parameters injected.
//! - [`llm_tool`]: the orchestrator's `llm` tool.

pub mod llm_tool;
pub mod plan_cache;
pub mod planner;

pub use llm_tool::LlmTool;
pub use plan_cache::{CacheStats, PlanCacheSettings};
pub use planner::{Planner, PlannerSettings, PlanningError, PlanningRecord};
