//! `GET /api/v1/runs/{id}/stream?after=N`: a run's events as server-sent events, resumable.
//!
//! The stream subscribes to the engine's bus first, then sends the stored events after `N`,
//! then live ones. Every SSE message carries the event's `seq` as its id, so a client that
//! reconnects passes the last id it saw (`?after=` or `Last-Event-ID`) and gets what it missed
//! from the store, then live events: no gap, no duplicate. A subscriber that falls behind the
//! bus is refilled from the store the same way. The stream ends after the run's last event.

use std::collections::VecDeque;
use std::convert::Infallible;
use std::time::Duration;

use axum::extract::{Path, State};
use axum::http::HeaderMap;
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use switchyard_orchestrator::runlog::RunLog;
use switchyard_orchestrator::{EventKind, RunEvent};
use switchyard_service::Service;
use tokio::sync::broadcast::{self, error::RecvError};

use crate::api::error::ApiError;
use crate::api::principal::Caller;
use crate::api::query::ApiQuery;
use switchyard_auth::Permission;

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct StreamQuery {
    /// Send events with a larger `seq` (default 0: the whole log).
    #[param(value_type = Option<i64>, minimum = 0)]
    pub after: Option<u64>,
}

struct Cursor {
    run_id: String,
    store: RunLog,
    bus: broadcast::Receiver<(String, RunEvent)>,
    /// `seq` of the last event sent.
    last: u64,
    queued: VecDeque<RunEvent>,
    done: bool,
}

#[utoipa::path(get, path = "/api/v1/runs/{id}/stream", tag = "runs",
    params(("id" = String, Path, description = "Run id"), StreamQuery),
    responses(
        (status = 200, description = "text/event-stream: one `message` per event, id = seq, data = the event as JSON; ends after the run's last event", content_type = "text/event-stream"),
        (status = 400, description = "A malformed query", body = crate::api::error::ErrorBody),
        (status = 404, description = "No such run", body = crate::api::error::ErrorBody),
        crate::api::error::Refusals
    ))]
pub async fn stream(
    Caller(who): Caller,
    State(service): State<Service>,
    Path(id): Path<String>,
    ApiQuery(query): ApiQuery<StreamQuery>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    who.require(Permission::ReadRuns).await?;
    service.visible_run(&who, &id).await?;
    open(&service, id, query, &headers).await
}

/// Run `id`'s events as server-sent events from `?after=` (or `Last-Event-ID`), for a
/// caller already allowed to follow it.
pub async fn open(
    service: &Service,
    id: String,
    query: StreamQuery,
    headers: &HeaderMap,
) -> Result<Response, ApiError> {
    let (engine, store) = (service.engine(), service.runs().clone());
    // Subscribe before reading the log, so nothing falls between the two.
    let bus = engine.subscribe();
    let state = engine.state(&id).await?;
    let resume_from = headers
        .get("last-event-id")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse().ok());
    let after = crate::api::query::seq_cursor(query.after.or(resume_from))?;
    let backlog = store
        .events(&id, after)
        .await
        .map_err(|e| ApiError::internal(&e))?;
    let cursor = Cursor {
        run_id: id,
        store,
        bus,
        last: after,
        queued: backlog.into(),
        done: state.status.is_final() && state.last_seq <= after,
    };
    let events = futures_util::stream::unfold(cursor, |mut cursor| async move {
        let event = next_event(&mut cursor).await?;
        let sse = Event::default()
            .id(event.seq.to_string())
            .json_data(&event)
            .unwrap_or_else(|_| Event::default().comment("unserializable event"));
        Some((Ok::<_, Infallible>(sse), cursor))
    });
    Ok(Sse::new(events)
        .keep_alive(KeepAlive::new().interval(Duration::from_secs(15)))
        .into_response())
}

/// The next event to send, in `seq` order, or `None` once the run has ended.
async fn next_event(cursor: &mut Cursor) -> Option<RunEvent> {
    loop {
        if let Some(event) = cursor.queued.pop_front() {
            if event.seq <= cursor.last {
                continue;
            }
            cursor.last = event.seq;
            if is_last(&event.kind) {
                cursor.done = true;
            }
            return Some(event);
        }
        if cursor.done {
            return None;
        }
        match cursor.bus.recv().await {
            Ok((run, event)) if run == cursor.run_id => {
                if event.seq > cursor.last + 1 {
                    // Something in between never reached us: read it from the log.
                    refill(cursor).await?;
                } else {
                    cursor.queued.push_back(event);
                }
            }
            Ok(_) => {}
            Err(RecvError::Lagged(_)) => refill(cursor).await?,
            Err(RecvError::Closed) => return None,
        }
    }
}

async fn refill(cursor: &mut Cursor) -> Option<()> {
    let missed = cursor
        .store
        .events(&cursor.run_id, cursor.last)
        .await
        .ok()?;
    cursor.queued.extend(missed);
    Some(())
}

fn is_last(kind: &EventKind) -> bool {
    matches!(
        kind,
        EventKind::RunSucceeded | EventKind::RunFailed { .. } | EventKind::RunCancelled { .. }
    )
}
