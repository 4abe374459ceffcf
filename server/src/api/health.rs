//! `GET /api/v1/health`: the service's health document ([`Service::health`]).

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use switchyard_protocol::{Health, HealthStatus};
use switchyard_service::Service;

/// 200 with the health document when the database answers and the store is whole, 503 with
/// the same document when not (database down, object store unreachable, writes queued, a
/// model failed to load), so load balancers and humans read the same thing.
#[utoipa::path(
    get,
    path = "/api/v1/health",
    tag = "meta",
    responses(
        (status = 200, description = "The server, its database and its store answer", body = Health),
        (status = 503, description = "The database or the store's object storage does not answer", body = Health)
    )
)]
pub async fn health(State(service): State<Service>) -> (StatusCode, Json<Health>) {
    let health = service.health().await;
    let status = match health.status {
        HealthStatus::Ok => StatusCode::OK,
        HealthStatus::Degraded => StatusCode::SERVICE_UNAVAILABLE,
    };
    (status, Json(health))
}
