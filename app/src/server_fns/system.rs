//! System status for the dashboard.

use leptos::prelude::*;
use switchyard_protocol::Health;

/// The same document as `GET /api/v1/health`.
#[server(prefix = "/api/fn", endpoint = "system_health")]
pub async fn system_health() -> Result<Health, ServerFnError> {
    let ctx = crate::context::server_context()?;
    Ok(ctx.health().await)
}
