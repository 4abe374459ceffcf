//! System status for the dashboard, and the top bar's search.

use leptos::prelude::*;
use switchyard_protocol::Health;

/// The same document as `GET /api/v1/health` (both are [`switchyard_service::Service::health`]).
#[server(prefix = "/api/fn", endpoint = "system_health")]
pub async fn system_health() -> Result<Health, ServerFnError> {
    Ok(crate::context::service()?.health().await)
}

/// The top bar's search beyond the sections: runs by part of their id, what the search index
/// finds, workflow templates by name or description, each only where the caller may see it.
#[server(prefix = "/api/fn", endpoint = "search_all")]
pub async fn search_all(
    text: String,
) -> Result<Vec<switchyard_protocol::SearchHit>, ServerFnError> {
    use super::access::{refused, service_and_caller};
    let (service, who) = service_and_caller("search")?;
    service.search(&who, &text).await.map_err(refused)
}

/// Query mode: what the search index finds for `text` in the caller's projects, best first.
#[server(prefix = "/api/fn", endpoint = "query_index")]
pub async fn query_index(
    text: String,
) -> Result<switchyard_protocol::query::QueryResults, ServerFnError> {
    use super::access::{refused, service_and_caller};
    let (service, who) = service_and_caller("search.query")?;
    service.query(&who, &text, 20).await.map_err(refused)
}
