//! What every handler can reach.

use axum::extract::FromRef;
use leptos::prelude::LeptosOptions;
use switchyard_app::context::ServerContext;

/// Shared by axum handlers (through `FromRef`) and Leptos (through context).
#[derive(Debug, Clone, FromRef)]
pub struct AppState {
    pub leptos_options: LeptosOptions,
    pub ctx: ServerContext,
}
