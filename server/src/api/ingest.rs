//! `POST /api/v1/events`: external agents report what they do — log lines and metric points
//! — into the tiered store, under their project (log lines also into the search index);
//! `GET /api/v1/events` reads the newest log lines back. Ingest needs `IngestEvents` (scope
//! `events:ingest`), stops at once when an admin switches `event_ingest` off (503 with the
//! reason), and has its own body limit (`ingest_body_limit_bytes`, 4 MiB by default, against
//! 1 MiB for the rest of the API).

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use serde::Deserialize;
use switchyard_auth::Permission;
use switchyard_auth::kill::{Capability, KillSwitches};
use switchyard_store::Store;
use switchyard_store::series::Point;

use crate::api::error::ApiError;
use crate::api::json::ApiJson;
use crate::api::principal::Caller;
use crate::api::query::ApiQuery;

pub use switchyard_protocol::api::events::{
    IngestBatch, IngestEvent, Ingested, LEVELS, LogLine, MAX_AT_MS, MAX_EVENTS, MAX_NAME,
};

/// Newest log lines one read returns, at most.
pub const MAX_READ: u32 = 500;

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ReadQuery {
    /// The project to read (default as for ingest).
    pub project: Option<String>,
    /// 1–500 (default 100); outside that range is 400.
    #[param(minimum = 1, maximum = 500)]
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

/// Checks a reported time: 0 to [`MAX_AT_MS`] (the end of year 9999).
fn checked_time(index: usize, at_ms: Option<i64>, now: i64) -> Result<i64, ApiError> {
    match at_ms {
        None => Ok(now),
        Some(at) if (0..=MAX_AT_MS).contains(&at) => Ok(at),
        Some(at) => Err(ApiError::bad_request(format!(
            "events[{index}].at_ms: {at} is outside 0–{MAX_AT_MS} (milliseconds since 1970 up to the end of year 9999)"
        ))),
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
        crate::api::error::BodyRefusals,
        crate::api::error::Refusals
    ))]
pub async fn ingest(
    Caller(who): Caller,
    State(service): State<switchyard_service::Service>,
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
    // Each log line is also found by the search index (query mode, the top bar).
    let mut documents = Vec::new();
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
                if !LEVELS.contains(&level.as_str()) {
                    return Err(ApiError::bad_request(format!(
                        "events[{index}].level: '{level}' is not one of debug, info, warn, error"
                    )));
                }
                let at_ms = checked_time(index, at_ms, now)?;
                let line = LogLine {
                    source,
                    level,
                    message,
                    at_ms,
                };
                let value = serde_json::to_vec(&line).map_err(|e| ApiError::internal(&e))?;
                let key = log_key(&project, at_ms);
                documents.push(switchyard_service::query::documents::log_line(
                    &key,
                    &project,
                    &line.source,
                    &line.level,
                    &line.message,
                ));
                logs.push((key, value));
            }
            IngestEvent::Metric {
                source,
                name: metric,
                value,
                at_ms,
            } => {
                name("source", index, &source)?;
                name("name", index, &metric)?;
                let at_ms = checked_time(index, at_ms, now)?;
                if !value.is_finite() {
                    return Err(ApiError::bad_request(format!(
                        "events[{index}].value: must be a finite number"
                    )));
                }
                metrics.push((
                    format!("{project}/{source}/{metric}"),
                    Point { at_ms, value },
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
    if !documents.is_empty() {
        service.index(&documents).await;
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
        (status = 400, description = "A limit outside 1–500, or a malformed query", body = crate::api::error::ErrorBody),
        (status = 404, description = "A project the caller does not see", body = crate::api::error::ErrorBody),
        crate::api::error::Refusals
    ))]
pub async fn read(
    Caller(who): Caller,
    State(store): State<Store>,
    ApiQuery(query): ApiQuery<ReadQuery>,
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
        assert_eq!(checked_time(0, None, 42).unwrap(), 42);
        assert_eq!(checked_time(0, Some(MAX_AT_MS), 42).unwrap(), MAX_AT_MS);
        // Found by Schemathesis: this time took the server down.
        let err = checked_time(2, Some(-9_223_372_036_854_775_807), 42).unwrap_err();
        assert!(err.message.contains("events[2].at_ms"), "{}", err.message);
    }
}
