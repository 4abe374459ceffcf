//! Wire types shared by the Switchyard server and the browser.
//!
//! # Layout
//!
//! - [`account`]: who a browser session belongs to.
//! - [`admin`]: what the admin page shows.
//! - [`health`]: the `GET /api/v1/health` document.
//! - [`chat`]: orchestrator-panel modes and the prompt length limit that the UI and the API
//!   both enforce.
//! - [`runs`]: runs as the web app lists them.
//!
//! This crate does no I/O and compiles to `wasm32-unknown-unknown`; anything that needs a
//! socket, a file or a clock belongs in a server crate.

pub mod account;
pub mod admin;
pub mod chat;
pub mod health;
pub mod runs;

pub use account::Account;
pub use chat::{ChatMode, MAX_PROMPT_CHARS, prompt_chars};
pub use health::{
    DatabaseHealth, DatabaseKind, Health, HealthStatus, InferenceHealth, ModelHealth,
    PlanCacheHealth, ServiceHealth, StoreHealth,
};
pub use runs::{RunDetail, RunRow, StepDetail};
