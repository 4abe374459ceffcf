//! `GET /api/v1/health`.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use switchyard_app::context::ServerContext;
use switchyard_protocol::{Health, HealthStatus, PlanCacheHealth, ServiceHealth, StoreHealth};
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
    State(host): State<switchyard_inference::Host>,
    State(planning): State<crate::planning::Planning>,
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
    let mut inference = host.status();
    inference.plan_cache = planning.planner.cache_stats().map(|c| PlanCacheHealth {
        entries: c.entries as u64,
        hits: c.hits,
        misses: c.misses,
        hit_rate: c.hit_rate,
    });
    // A model that failed to load degrades health; one still loading does not (health
    // shows its progress).
    if inference.models.iter().any(|m| m.state == "failed") {
        health.status = HealthStatus::Degraded;
    }
    health.inference = Some(inference);
    let status = match health.status {
        HealthStatus::Ok => StatusCode::OK,
        HealthStatus::Degraded => StatusCode::SERVICE_UNAVAILABLE,
    };
    (status, Json(health))
}
