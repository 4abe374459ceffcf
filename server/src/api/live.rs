//! `GET /api/v1/live`: one WebSocket that carries the live events of every run a client
//! subscribes to, for dashboards that watch many runs at once (the SSE stream at
//! `/api/v1/runs/{id}/stream` serves one run).
//!
//! - **Who.** The upgrade request is authenticated like any API call: the browser session's
//!   cookie, `Authorization: Bearer` (API keys, tools), or `?ticket=` — a 30-second ticket from
//!   `POST /api/v1/auth/ws-ticket` for clients that can send neither. Never a long-lived
//!   token in the URL.
//! - **Where from.** An upgrade whose `Origin` is another site (and not in
//!   `cors_allow_origins`) is refused with 403 before the handshake
//!   ([`crate::hardening::same_origin_writes`]).
//! - **What.** The client sends `{"subscribe": "<run id>", "after": 0}` and
//!   `{"unsubscribe": "<run id>"}`; each subscription is checked (permission `ReadRuns`, and
//!   the run's project: a foreign or unknown id answers the same "not found"). The server
//!   sends `{"run": id, "event": …}` for the stored events after `after`, then live ones, and
//!   `{"error": …}` for a refused message.
//! - **Limits.** Messages and frames over [`MAX_MESSAGE_BYTES`] close the socket with 1009
//!   (message too big); at most [`MAX_SUBSCRIPTIONS`] runs per socket.

use std::collections::{HashMap, HashSet};

use axum::extract::State;
use axum::extract::ws::{CloseFrame, Message, WebSocket, WebSocketUpgrade, close_code};
use axum::response::Response;
use serde::Deserialize;
use switchyard_auth::Permission;
use switchyard_service::Service;
use tokio::sync::broadcast::error::RecvError;

use crate::api::error::ApiError;
use crate::api::principal::{Caller, Principal};

/// The largest message or frame a client may send.
pub const MAX_MESSAGE_BYTES: usize = 64 * 1024;
/// The most runs one socket may follow.
pub const MAX_SUBSCRIPTIONS: usize = 64;

/// What a client sends.
#[derive(Debug, Deserialize)]
#[serde(untagged, deny_unknown_fields)]
enum ClientMessage {
    Subscribe {
        subscribe: String,
        #[serde(default)]
        after: u64,
    },
    Unsubscribe {
        unsubscribe: String,
    },
}

#[utoipa::path(get, path = "/api/v1/live", tag = "runs",
    params(("ticket" = Option<String>, Query,
        description = "A ticket from `POST /api/v1/auth/ws-ticket`, for clients that can send neither the session cookie nor `Authorization`")),
    responses(
        (status = 101, description = "Switched to a WebSocket. Send `{\"subscribe\": RUN_ID, \"after\": SEQ}` or `{\"unsubscribe\": RUN_ID}`; receive `{\"run\", \"event\"}` for each event (the missed ones first) or `{\"error\"}`"),
        (status = 400, description = "Not a WebSocket upgrade request", content_type = "text/plain"),
        (status = 426, description = "The connection cannot be upgraded", content_type = "text/plain"),
        crate::api::error::Refusals
    ))]
pub async fn live(
    Caller(who): Caller,
    State(service): State<Service>,
    upgrade: WebSocketUpgrade,
) -> Result<Response, ApiError> {
    who.require(Permission::ReadRuns).await?;
    Ok(upgrade
        .max_message_size(MAX_MESSAGE_BYTES)
        .max_frame_size(MAX_MESSAGE_BYTES)
        .on_upgrade(move |socket| serve(socket, who, service)))
}

fn event_message(run: &str, event: &switchyard_orchestrator::RunEvent) -> Message {
    Message::Text(
        serde_json::json!({"run": run, "event": event})
            .to_string()
            .into(),
    )
}

fn error_message(text: &str) -> Message {
    Message::Text(serde_json::json!({"error": text}).to_string().into())
}

async fn close(socket: &mut WebSocket, code: u16, reason: &str) {
    let _ = socket
        .send(Message::Close(Some(CloseFrame {
            code,
            reason: reason.into(),
        })))
        .await;
}

async fn serve(mut socket: WebSocket, who: Principal, service: Service) {
    let store = service.runs();
    let mut bus = service.engine().subscribe();
    // Run id → the last seq sent.
    let mut following: HashMap<String, u64> = HashMap::new();
    loop {
        tokio::select! {
            incoming = socket.recv() => {
                let text = match incoming {
                    None | Some(Ok(Message::Close(_))) => return,
                    Some(Ok(Message::Text(text))) => text,
                    Some(Ok(Message::Ping(_) | Message::Pong(_))) => continue,
                    Some(Ok(Message::Binary(_))) => {
                        let _ = socket.send(error_message("send JSON text messages")).await;
                        continue;
                    }
                    Some(Err(e)) => {
                        // The only error a client can cause on an open socket is a message
                        // or frame over the limit.
                        let text = e.to_string();
                        if text.contains("too long") || text.contains("too big") || text.contains("Space limit") {
                            close(&mut socket, close_code::SIZE, "message too big: the limit is 64 KiB").await;
                        }
                        return;
                    }
                };
                match serde_json::from_str::<ClientMessage>(&text) {
                    Ok(ClientMessage::Subscribe { subscribe, after }) => {
                        if following.len() >= MAX_SUBSCRIPTIONS && !following.contains_key(&subscribe) {
                            let _ = socket.send(error_message(&format!(
                                "at most {MAX_SUBSCRIPTIONS} runs per socket: unsubscribe from one first"
                            ))).await;
                            continue;
                        }
                        if let Err(e) = service.visible_run(&who, &subscribe).await {
                            let _ = socket.send(error_message(&e.message)).await;
                            continue;
                        }
                        let backlog = match store.events(&subscribe, after).await {
                            Ok(events) => events,
                            Err(e) => {
                                let _ = socket.send(error_message(&e.to_string())).await;
                                continue;
                            }
                        };
                        let mut last = after;
                        for event in &backlog {
                            if socket.send(event_message(&subscribe, event)).await.is_err() {
                                return;
                            }
                            last = event.seq;
                        }
                        following.insert(subscribe, last);
                    }
                    Ok(ClientMessage::Unsubscribe { unsubscribe }) => {
                        following.remove(&unsubscribe);
                    }
                    Err(_) => {
                        let _ = socket.send(error_message(
                            "expected {\"subscribe\": \"<run id>\", \"after\": 0} or {\"unsubscribe\": \"<run id>\"}",
                        )).await;
                    }
                }
            }
            published = bus.recv() => {
                match published {
                    Ok((run, event)) => {
                        if let Some(last) = following.get_mut(&run)
                            && event.seq > *last
                        {
                            *last = event.seq;
                            if socket.send(event_message(&run, &event)).await.is_err() {
                                return;
                            }
                        }
                    }
                    Err(RecvError::Lagged(_)) => {
                        // Fell behind the bus: refill every followed run from the store.
                        let runs: HashSet<String> = following.keys().cloned().collect();
                        for run in runs {
                            let after = following[&run];
                            let Ok(events) = store.events(&run, after).await else { continue };
                            for event in &events {
                                if socket.send(event_message(&run, event)).await.is_err() {
                                    return;
                                }
                                following.insert(run.clone(), event.seq);
                            }
                        }
                    }
                    Err(RecvError::Closed) => {
                        close(&mut socket, close_code::AWAY, "the server is stopping").await;
                        return;
                    }
                }
            }
        }
    }
}
