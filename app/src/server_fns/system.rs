//! System status for the dashboard.

use leptos::prelude::*;
use switchyard_protocol::Health;

/// The same document as `GET /api/v1/health` (both are [`switchyard_service::Service::health`]).
#[server(prefix = "/api/fn", endpoint = "system_health")]
pub async fn system_health() -> Result<Health, ServerFnError> {
    Ok(crate::context::service()?.health().await)
}
