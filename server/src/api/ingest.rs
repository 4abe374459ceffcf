//! `POST /api/v1/events`: external agents report what they do — log lines and metric points
//! — into the tiered store, under their project; `GET /api/v1/events` reads the newest log
//! lines back. Ingest needs `IngestEvents` (scope `events:ingest`), stops at once when an
//! admin switches `event_ingest` off (503 with the reason), and has its own body limit
//! (`ingest_body_limit_bytes`, 4 MiB by default, against 1 MiB for the rest of the API).

use axum::Json;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use serde::{Deserialize, Serialize};
use switchyard_auth::Permission;
use switchyard_auth::kill::{Capability, KillSwitches};
use switchyard_store::Store;
use switchyard_store::series::Point;
use utoipa::ToSchema;

use crate::api::error::ApiError;
use crate::api::json::ApiJson;
use crate::api::principal::Caller;

/// Most events one request may carry.
pub const MAX_EVENTS: usize = 1_000;
/// Longest `source`, metric `name` or project-relative series name.
const MAX_NAME: usize = 128;
/// Newest log lines one read returns, at most.
pub const MAX_READ: u32 = 500;

/// `POST /api/v1/events`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct IngestBatch {
    /// The project the events belong to. Default: an API key's project, or the caller's only
    /// project, or `default`.
    pub project: Option<String>,
    /// 1 to 1,000 events.
    pub events: Vec<IngestEvent>,
}

/// One reported event: a log line (`message`) or a metric point (`name` and `value`).
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum IngestEvent {
    Log {
        /// Who reports it, e.g. an agent's name.
        source: String,
        /// `debug`, `info`, `warn` or `error` (default `info`).
        #[serde(default = "default_level")]
        level: String,
        message: String,
        /// Milliseconds since the epoch; default: when it arrived.
        at_ms: Option<i64>,
    },
    Metric {
        source: String,
        name: String,
        value: f64,
        at_ms: Option<i64>,
    },
}

fn default_level() -> String {
    "info".into()
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Ingested {
    pub project: String,
    pub logs: usize,
    pub metrics: usize,
}

/// A stored log line, as `GET /api/v1/events` returns it.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct LogLine {
    pub source: String,
    pub level: String,
    pub message: String,
    pub at_ms: i64,
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
pub struct ReadQuery {
    /// The project to read (default as for ingest).
    pub project: Option<String>,
    /// 1–500 (default 100).
    pub limit: Option<u32>,
}

/// Checks one name: non-empty, at most 128 visible ASCII characters, no `/`.
fn name(field: &str, index: usize, value: &str) -> Result<(), ApiError> {
    let ok = !value.is_empty()
        && value.len() <= MAX_NAME
        && value.bytes().all(|b| b.is_ascii_graphic() && b != b'/');
    if ok {
        Ok(())
    } else {
        Err(ApiError::bad_request(format!(
            "events[{index}].{field}: expected 1 to {MAX_NAME} visible ASCII characters without '/'"
        )))
    }
}

/// Store keys sort newest first: the time is stored inverted.
fn log_key(project: &str, at_ms: i64) -> String {
    let inverted = 9_999_999_999_999_i64.saturating_sub(at_ms.max(0));
    format!(
        "{}{inverted:013}-{}",
        log_prefix(project),
        uuid::Uuid::now_v7().simple()
    )
}

fn log_prefix(project: &str) -> String {
    format!("events/{project}/")
}

#[utoipa::path(post, path = "/api/v1/events", tag = "events", request_body = IngestBatch,
    responses(
        (status = 202, description = "Stored (or queued while the database is away)", body = Ingested),
        (status = 400, description = "Malformed, empty, too many events, or a bad field (named)", body = crate::api::error::ErrorBody),
        (status = 404, description = "A project the caller does not see", body = crate::api::error::ErrorBody),
        (status = 413, description = "Over `ingest_body_limit_bytes`", body = crate::api::error::ErrorBody),
        (status = 503, description = "An admin switched event ingest off; the message says why", body = crate::api::error::ErrorBody),
        crate::api::error::BodyRefusals
    ))]
pub async fn ingest(
    Caller(who): Caller,
    State(store): State<Store>,
    State(switches): State<KillSwitches>,
    ApiJson(batch): ApiJson<IngestBatch>,
) -> Result<(StatusCode, Json<Ingested>), ApiError> {
    who.require(Permission::IngestEvents).await?;
    crate::api::error::require_on(&switches, Capability::EventIngest).await?;
    let project = who.project_for_new(batch.project.as_deref()).await?;
    if batch.events.is_empty() || batch.events.len() > MAX_EVENTS {
        return Err(ApiError::bad_request(format!(
            "events: send 1 to {MAX_EVENTS} events, not {}",
            batch.events.len()
        )));
    }
    let now = chrono::Utc::now().timestamp_millis();
    let mut logs: Vec<(String, Vec<u8>)> = Vec::new();
    let mut metrics: Vec<(String, Point)> = Vec::new();
    // Every event is checked before anything is written.
    for (index, event) in batch.events.into_iter().enumerate() {
        match event {
            IngestEvent::Log {
                source,
                level,
                message,
                at_ms,
            } => {
                name("source", index, &source)?;
                if !matches!(level.as_str(), "debug" | "info" | "warn" | "error") {
                    return Err(ApiError::bad_request(format!(
                        "events[{index}].level: '{level}' is not one of debug, info, warn, error"
                    )));
                }
                let at_ms = at_ms.unwrap_or(now);
                let line = LogLine {
                    source,
                    level,
                    message,
                    at_ms,
                };
                let value = serde_json::to_vec(&line).map_err(|e| ApiError::internal(&e))?;
                logs.push((log_key(&project, at_ms), value));
            }
            IngestEvent::Metric {
                source,
                name: metric,
                value,
                at_ms,
            } => {
                name("source", index, &source)?;
                name("name", index, &metric)?;
                if !value.is_finite() {
                    return Err(ApiError::bad_request(format!(
                        "events[{index}].value: must be a finite number"
                    )));
                }
                metrics.push((
                    format!("{project}/{source}/{metric}"),
                    Point {
                        at_ms: at_ms.unwrap_or(now),
                        value,
                    },
                ));
            }
        }
    }
    let (log_count, metric_count) = (logs.len(), metrics.len());
    if !logs.is_empty() {
        let records: Vec<(&str, &[u8])> = logs
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_slice()))
            .collect();
        store
            .put_batch(&records)
            .await
            .map_err(|e| ApiError::internal(&e))?;
    }
    metrics.sort_by(|a, b| a.0.cmp(&b.0));
    for chunk in metrics.chunk_by(|a, b| a.0 == b.0) {
        let points: Vec<Point> = chunk.iter().map(|(_, p)| *p).collect();
        store
            .append(&chunk[0].0, &points)
            .await
            .map_err(|e| ApiError::internal(&e))?;
    }
    Ok((
        StatusCode::ACCEPTED,
        Json(Ingested {
            project,
            logs: log_count,
            metrics: metric_count,
        }),
    ))
}

#[utoipa::path(get, path = "/api/v1/events", tag = "events", params(ReadQuery),
    responses(
        (status = 200, description = "The newest log lines, newest first", body = Vec<LogLine>),
        (status = 404, description = "A project the caller does not see", body = crate::api::error::ErrorBody)
    ))]
pub async fn read(
    Caller(who): Caller,
    State(store): State<Store>,
    Query(query): Query<ReadQuery>,
) -> Result<Json<Vec<LogLine>>, ApiError> {
    who.require(Permission::ReadRuns).await?;
    let project = who.project_for_new(query.project.as_deref()).await?;
    let limit = query.limit.unwrap_or(100);
    if !(1..=MAX_READ).contains(&limit) {
        return Err(ApiError::bad_request(format!(
            "limit {limit} is outside 1–{MAX_READ}"
        )));
    }
    let records = store
        .scan(&log_prefix(&project), limit)
        .await
        .map_err(|e| ApiError::internal(&e))?;
    let lines = records
        .iter()
        .filter_map(|r| serde_json::from_slice(&r.value).ok())
        .collect();
    Ok(Json(lines))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn log_keys_sort_newest_first_and_names_are_checked() {
        assert!(log_key("p", 2_000) < log_key("p", 1_000));
        assert!(log_key("p", 1).starts_with("events/p/"));
        assert!(name("source", 0, "agent-7").is_ok());
        for bad in ["", "a/b", "a b", &"x".repeat(129)] {
            assert!(name("source", 3, bad).is_err(), "{bad}");
        }
    }
}
