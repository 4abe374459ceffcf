//! `GET /api/v1/health`.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use switchyard_app::context::ServerContext;
use switchyard_protocol::{Health, HealthStatus};

/// 200 with the health document when the database answers, 503 with the same document when
/// it does not, so load balancers and humans read the same thing.
#[utoipa::path(
    get,
    path = "/api/v1/health",
    tag = "meta",
    responses(
        (status = 200, description = "The server and its database answer", body = Health),
        (status = 503, description = "The database does not answer", body = Health)
    )
)]
pub async fn health(State(ctx): State<ServerContext>) -> (StatusCode, Json<Health>) {
    let health = ctx.health().await;
    let status = match health.status {
        HealthStatus::Ok => StatusCode::OK,
        HealthStatus::Degraded => StatusCode::SERVICE_UNAVAILABLE,
    };
    (status, Json(health))
}
