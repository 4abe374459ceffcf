//! The health document, once: version, uptime, a live database probe, the tiered store, the
//! model host and the plan cache. `GET /api/v1/health` and the dashboard show this same
//! document.

use std::time::Duration;

use switchyard_protocol::{Health, HealthStatus, PlanCacheHealth, ServiceHealth, StoreHealth};
use switchyard_store::Reachability;

use crate::Service;

/// How long the health probe waits for the database before calling it down.
pub const DB_PROBE_DEADLINE: Duration = Duration::from_secs(2);

impl Service {
    /// `Degraded` when the database does not answer, the store's object storage is
    /// unreachable or writes are queued, or a model failed to load (one still loading does
    /// not degrade: the document shows its progress).
    pub async fn health(&self) -> Health {
        let database = self.db().probe(DB_PROBE_DEADLINE).await;
        let mut status = if database.ok {
            HealthStatus::Ok
        } else {
            HealthStatus::Degraded
        };
        let store = self.store().health();
        if !store.is_ok() {
            status = HealthStatus::Degraded;
        }
        let service = |r: Reachability| ServiceHealth {
            ok: r.ok,
            error: r.error,
            since_ms: r.since_ms,
        };
        let mut inference = self.inference().status();
        inference.plan_cache = self
            .planning()
            .planner
            .cache_stats()
            .map(|c| PlanCacheHealth {
                entries: c.entries as u64,
                hits: c.hits,
                misses: c.misses,
                hit_rate: c.hit_rate,
            });
        if inference.models.iter().any(|m| m.state == "failed") {
            status = HealthStatus::Degraded;
        }
        Health {
            status,
            version: env!("CARGO_PKG_VERSION").to_owned(),
            uptime_s: self.started().elapsed().as_secs(),
            database,
            store: Some(StoreHealth {
                database: service(store.database),
                objects: service(store.objects),
                queued_writes: store.queued_writes,
                queue_limit: store.queue_limit,
            }),
            inference: Some(inference),
        }
    }
}
