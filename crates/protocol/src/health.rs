//! The health document served at `GET /api/v1/health`.

use serde::{Deserialize, Serialize};

/// Overall state of one Switchyard process.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum HealthStatus {
    /// Every dependency answered.
    Ok,
    /// The process serves, but a dependency (the database) did not answer.
    Degraded,
}

/// Which SQL backend holds the state.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DatabaseKind {
    Sqlite,
    Postgres,
}

impl DatabaseKind {
    /// The lowercase name used in config, logs and the health document.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Sqlite => "sqlite",
            Self::Postgres => "postgres",
        }
    }
}

/// Result of the database probe run for each health request.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DatabaseHealth {
    pub kind: DatabaseKind,
    /// `true` when a trivial query round-tripped within the probe's deadline.
    pub ok: bool,
}

/// `GET /api/v1/health`.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Health {
    pub status: HealthStatus,
    /// The server's crate version, so a dashboard can tell which build answered.
    pub version: String,
    /// Whole seconds since this process started serving.
    pub uptime_s: u64,
    pub database: DatabaseHealth,
    /// The tiered store, when this process runs one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub store: Option<StoreHealth>,
    /// The model host, when this process runs one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub inference: Option<InferenceHealth>,
}

/// The model host: the device, each configured model's state, and its admission queue.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct InferenceHealth {
    /// Where models run: `cpu (N threads)` or `cuda:0`.
    pub device: String,
    pub models: Vec<ModelHealth>,
    /// Requests generating now, and at most.
    pub running: u32,
    pub max_concurrent: u32,
    /// Requests waiting for a slot now, and at most (one more is answered 503).
    pub waiting: u32,
    pub queue_limit: u32,
    /// With no model configured: which setting to set.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
    /// The semantic plan cache, when it is on.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub plan_cache: Option<PlanCacheHealth>,
}

/// How often planning reused a cached plan instead of asking the model.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PlanCacheHealth {
    pub entries: u64,
    pub hits: u64,
    pub misses: u64,
    /// hits / (hits + misses), 0 before any lookup.
    pub hit_rate: f64,
}

/// One configured model.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ModelHealth {
    pub id: String,
    pub path: String,
    /// `loading`, `ready` or `failed`.
    pub state: String,
    /// How much of the model has loaded, 0–100.
    pub progress_pct: u8,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// How long loading took, once ready.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub load_ms: Option<u64>,
    /// Requests that name no model go to this one.
    pub default: bool,
}

/// What the store last found of one service it stands on.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ServiceHealth {
    pub ok: bool,
    /// The last failure, while it lasts.
    pub error: Option<String>,
    /// Since when it has failed, milliseconds since the epoch.
    pub since_ms: Option<i64>,
}

/// The tiered store: whether its database and object store answer, and how many writes
/// wait for the database.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StoreHealth {
    pub database: ServiceHealth,
    pub objects: ServiceHealth,
    pub queued_writes: u64,
    pub queue_limit: u64,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn health_serializes_with_the_documented_field_names() {
        let health = Health {
            status: HealthStatus::Degraded,
            version: "1.2.3".into(),
            uptime_s: 7,
            database: DatabaseHealth {
                kind: DatabaseKind::Postgres,
                ok: false,
            },
            store: None,
            inference: None,
        };
        let json = serde_json::to_value(&health).unwrap();
        assert_eq!(
            json,
            serde_json::json!({
                "status": "degraded",
                "version": "1.2.3",
                "uptime_s": 7,
                "database": {"kind": "postgres", "ok": false}
            })
        );
        let back: Health = serde_json::from_value(json).unwrap();
        assert_eq!(back, health);
    }
}
