//! `GET /api/v1/health`.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use switchyard_app::context::ServerContext;
use switchyard_protocol::{Health, HealthStatus, ServiceHealth, StoreHealth};
use switchyard_store::{Reachability, Store};

/// 200 with the health document when the database answers and the store is whole, 503 with
/// the same document when not (database down, object store unreachable, writes queued), so
/// load balancers and humans read the same thing.
#[utoipa::path(
    get,
    path = "/api/v1/health",
    tag = "meta",
    responses(
        (status = 200, description = "The server, its database and its store answer", body = Health),
        (status = 503, description = "The database or the store's object storage does not answer", body = Health)
    )
)]
pub async fn health(
    State(ctx): State<ServerContext>,
    State(store): State<Store>,
) -> (StatusCode, Json<Health>) {
    let mut health = ctx.health().await;
    let store = store.health();
    if !store.is_ok() {
        health.status = HealthStatus::Degraded;
    }
    let service = |r: Reachability| ServiceHealth {
        ok: r.ok,
        error: r.error,
        since_ms: r.since_ms,
    };
    health.store = Some(StoreHealth {
        database: service(store.database),
        objects: service(store.objects),
        queued_writes: store.queued_writes,
        queue_limit: store.queue_limit,
    });
    let status = match health.status {
        HealthStatus::Ok => StatusCode::OK,
        HealthStatus::Degraded => StatusCode::SERVICE_UNAVAILABLE,
    };
    (status, Json(health))
}
