//! What every handler can reach.

use axum::extract::FromRef;
use leptos::prelude::LeptosOptions;
use switchyard_app::context::ServerContext;
use switchyard_orchestrator::engine::Engine;
use switchyard_orchestrator::store::RunStore;
use switchyard_store::Store;

use crate::auth::AuthState;

/// Shared by axum handlers (through `FromRef`) and Leptos (through context).
#[derive(Debug, Clone, FromRef)]
pub struct AppState {
    pub leptos_options: LeptosOptions,
    pub ctx: ServerContext,
    pub engine: Engine,
    pub runs: RunStore,
    /// The tiered store.
    pub store: Store,
    /// The model host (mistral.rs): the OpenAI-compatible API, the `llm` tool, the planner.
    pub inference: switchyard_inference::Host,
    /// Goals into plans (`POST /api/v1/runs {"goal"}`).
    pub planning: crate::planning::Planning,
    /// Token keys and accounts.
    pub auth: AuthState,
    /// Capabilities an admin may have switched off.
    pub switches: switchyard_auth::kill::KillSwitches,
    /// The largest request body accepted, in bytes (413 beyond).
    pub body_limit: usize,
    /// The largest body `POST /api/v1/events` accepts.
    #[from_ref(skip)]
    pub ingest_body_limit: usize,
    /// Other sites allowed to call the API from a browser.
    pub cors_allow_origins: std::sync::Arc<[String]>,
}
