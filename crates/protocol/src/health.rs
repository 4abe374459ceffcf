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
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Health {
    pub status: HealthStatus,
    /// The server's crate version, so a dashboard can tell which build answered.
    pub version: String,
    /// Whole seconds since this process started serving.
    pub uptime_s: u64,
    pub database: DatabaseHealth,
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
