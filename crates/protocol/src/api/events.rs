//! `/api/v1/events`: what external agents report (log lines and metric points) and what
//! reading the log lines back answers.

use serde::{Deserialize, Serialize};

/// Most events one request may carry.
pub const MAX_EVENTS: usize = 1_000;
/// Longest `source` or metric `name`.
pub const MAX_NAME: usize = 128;
/// The latest `at_ms` accepted: the end of year 9999, in milliseconds since the epoch.
pub const MAX_AT_MS: i64 = 253_402_300_799_999;
/// The levels a log line may have.
pub const LEVELS: [&str; 4] = ["debug", "info", "warn", "error"];

/// `POST /api/v1/events`.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct IngestBatch {
    /// The project the events belong to. Default: an API key's project, or the caller's only
    /// project, or `default`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub project: Option<String>,
    /// 1 to 1,000 events.
    #[cfg_attr(feature = "openapi", schema(min_items = 1, max_items = 1000))]
    pub events: Vec<IngestEvent>,
}

/// One reported event: a log line (`message`) or a metric point (`name` and `value`).
/// `source` and `name` are 1 to 128 visible ASCII characters without `/`. Fields this server
/// does not know are ignored, so agents may send what newer servers understand.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum IngestEvent {
    Log {
        /// Who reports it, e.g. an agent's name.
        #[cfg_attr(feature = "openapi", schema(pattern = "^[!-.0-~]{1,128}$"))]
        source: String,
        /// `debug`, `info`, `warn` or `error` (default `info`).
        #[serde(default = "default_level")]
        #[cfg_attr(feature = "openapi", schema(pattern = "^(debug|info|warn|error)$"))]
        level: String,
        message: String,
        /// Milliseconds since the epoch, up to the end of year 9999; default: when it arrived.
        #[serde(default, deserialize_with = "crate::whole::option")]
        #[cfg_attr(
            feature = "openapi",
            schema(minimum = 0, maximum = 253_402_300_799_999_i64)
        )]
        at_ms: Option<i64>,
    },
    Metric {
        #[cfg_attr(feature = "openapi", schema(pattern = "^[!-.0-~]{1,128}$"))]
        source: String,
        #[cfg_attr(feature = "openapi", schema(pattern = "^[!-.0-~]{1,128}$"))]
        name: String,
        value: f64,
        /// As for a log line.
        #[serde(default, deserialize_with = "crate::whole::option")]
        #[cfg_attr(
            feature = "openapi",
            schema(minimum = 0, maximum = 253_402_300_799_999_i64)
        )]
        at_ms: Option<i64>,
    },
}

fn default_level() -> String {
    "info".into()
}

/// `POST /api/v1/events`'s answer.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Ingested {
    pub project: String,
    pub logs: usize,
    pub metrics: usize,
}

/// A stored log line, as `GET /api/v1/events` returns it.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LogLine {
    pub source: String,
    pub level: String,
    pub message: String,
    pub at_ms: i64,
}
