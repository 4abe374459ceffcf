//! Workflow templates: a plan saved under a name, whose inputs read `{{params.NAME}}`, with the
//! JSON Schema of those parameters. Each save is a new version. A template runs with a
//! caller's parameters: they are checked against the schema (defaults filled in), put into
//! the plan, and the plan runs like any other.
//!
//! # Layout
//!
//! - [`name`]: what a template may be called (it appears in URLs).
//! - [`params`]: the parameters' schema, the `{{params.…}}` references in a plan, checking a
//!   caller's values field by field, rendering the plan, and a sample of the parameters for
//!   checking a plan when it is saved.
//! - [`store`]: the `workflow_templates` and `workflow_runs` tables on SQLite or PostgreSQL.
//!
//! The use cases (who may save or run which template, submitting the run, waiting for its
//! end) live in `switchyard-service`.

pub mod name;
pub mod params;
pub mod store;

pub use params::FieldError;
pub use store::{NewTemplate, Template};
