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
//! - **What.** The messages are [`switchyard_protocol::api::live`]'s. The client sends
//!   `{"subscribe": "<run id>", "after": 0}` and `{"unsubscribe": "<run id>"}`; each
//!   subscription is checked (permission `ReadRuns`, and the run's project: a foreign or
//!   unknown id answers the same "not found"). The server sends `{"run": id, "event": …}` for
//!   the stored events after `after`, then live ones. `{"watch": "runs" | "approvals" | "notifications"}` adds
//!   `{"topic", "change": {"run", "seq", "kind"}}` for the runs the caller may see (for
//!   `notifications`: when the caller's own bell changed; `run` is empty). `{"ping":
//!   n}` is answered `{"pong": n}`. `{"planning": ID}` follows the planning of a goal the
//!   same person submits with that planning id (`{"planning", "progress"}` messages, the
//!   last one `planned` or `failed`). `{"answer": "CONVERSATION:SEQ"}` follows one of the
//!   same person's chat answers while the server writes it (`{"answer", "progress"}`: the
//!   text so far and its status). A refused message is answered `{"error": …}`.
//! - **Limits.** Messages and frames over [`MAX_MESSAGE_BYTES`] close the socket with 1009
//!   (message too big); at most [`MAX_SUBSCRIPTIONS`] runs per socket.

use std::collections::{HashMap, HashSet};

use axum::extract::State;
use axum::extract::ws::{CloseFrame, Message, WebSocket, WebSocketUpgrade, close_code};
use axum::response::Response;
use futures_util::SinkExt;
use switchyard_auth::Permission;
use switchyard_protocol::api::live::{
    ClientMessage, RunChange, ServerMessage, Topic, touches_approvals,
};
use switchyard_protocol::api::runs::PlanningProgress;
use switchyard_protocol::conversation::{AnswerProgress, parse_answer_key};
use switchyard_service::Service;
use switchyard_service::followers::{Delivery, Follower};
use tokio::sync::broadcast::error::RecvError;

use crate::api::error::ApiError;
use crate::api::principal::{Caller, Principal};

/// The largest message or frame a client may send.
pub const MAX_MESSAGE_BYTES: usize = 64 * 1024;
/// The most runs one socket may follow.
pub const MAX_SUBSCRIPTIONS: usize = 64;

#[utoipa::path(get, path = "/api/v1/live", tag = "runs",
    params(("ticket" = Option<String>, Query,
        description = "A ticket from `POST /api/v1/auth/ws-ticket`, for clients that can send neither the session cookie nor `Authorization`")),
    responses(
        (status = 101, description = "Switched to a WebSocket. Send `{\"subscribe\": RUN_ID, \"after\": SEQ}`, `{\"unsubscribe\": RUN_ID}`, `{\"watch\": \"runs\"|\"approvals\"|\"notifications\"}`, `{\"unwatch\": …}`, `{\"planning\": PLANNING_ID}`, `{\"answer\": \"CONVERSATION:SEQ\"}` or `{\"ping\": N}`; receive `{\"run\", \"event\"}` for each event of a followed run (the missed ones first), `{\"topic\", \"change\": {\"run\", \"seq\", \"kind\"}}` under a watched topic, `{\"planning\", \"progress\"}` while a followed goal is planned, `{\"answer\", \"progress\"}` while a followed chat answer is written, `{\"pong\": N}`, or `{\"error\"}`"),
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

fn message(message: &ServerMessage) -> Message {
    Message::Text(serde_json::to_string(message).unwrap_or_default().into())
}

fn event_message(run: &str, event: &switchyard_orchestrator::RunEvent) -> Message {
    message(&ServerMessage::Event {
        run: run.to_owned(),
        event: event.clone(),
    })
}

fn error_message(text: &str) -> Message {
    message(&ServerMessage::Error {
        error: text.to_owned(),
    })
}

async fn close(socket: &mut WebSocket, code: u16, reason: &str) {
    let _ = socket
        .send(Message::Close(Some(CloseFrame {
            code,
            reason: reason.into(),
        })))
        .await;
}

/// Sends the topic messages one event makes, to a caller who may see its run. `Err` when the
/// socket is gone.
async fn send_changes(
    socket: &mut WebSocket,
    service: &Service,
    who: &Principal,
    watching: &HashSet<Topic>,
    visible: &mut HashMap<String, bool>,
    run: &str,
    event: &switchyard_orchestrator::RunEvent,
) -> Result<(), ()> {
    let may_see = match visible.get(run) {
        Some(known) => *known,
        None => {
            // Bounded: a socket that outlives many runs forgets and asks again.
            if visible.len() >= 10_000 {
                visible.clear();
            }
            // A filter, not a request to see the run: no "denied" entry in the audit log for
            // every foreign run the bus carries.
            let known = match service.runs().project_of(run).await {
                Ok(Some(project)) => who.visibility.sees(&project),
                _ => false,
            };
            visible.insert(run.to_owned(), known);
            known
        }
    };
    if !may_see {
        return Ok(());
    }
    let kind = event.kind.name();
    for topic in [Topic::Runs, Topic::Approvals] {
        let wanted = watching.contains(&topic) && (topic == Topic::Runs || touches_approvals(kind));
        if wanted {
            let change = RunChange {
                run: run.to_owned(),
                seq: event.seq,
                kind: kind.to_owned(),
            };
            socket
                .send(message(&ServerMessage::Changed { topic, change }))
                .await
                .map_err(|_| ())?;
        }
    }
    Ok(())
}

/// The next event of the whole bus, while a topic is watched; never otherwise.
async fn next_published(
    bus: &mut Option<tokio::sync::broadcast::Receiver<(String, switchyard_orchestrator::RunEvent)>>,
) -> Result<(String, switchyard_orchestrator::RunEvent), RecvError> {
    match bus {
        Some(bus) => bus.recv().await,
        None => std::future::pending().await,
    }
}

type PlanningReceiver = tokio::sync::watch::Receiver<Option<PlanningProgress>>;
type AnswerReceiver = tokio::sync::watch::Receiver<AnswerProgress>;

/// The next state of what the socket follows through a watch channel (a planning, a chat
/// answer), with its key: the latest, when several came meanwhile, once `present` finds it
/// worth sending (a planning has nothing before its first report). `None` once it can no
/// longer change; never while nothing is followed.
async fn next_state<T, U>(
    followed: &mut Option<(String, tokio::sync::watch::Receiver<T>)>,
    present: impl Fn(&T) -> Option<U>,
) -> Option<(String, U)> {
    let Some((key, progress)) = followed else {
        return std::future::pending().await;
    };
    loop {
        progress.changed().await.ok()?;
        if let Some(latest) = present(&*progress.borrow_and_update()) {
            return Some((key.clone(), latest));
        }
    }
}

/// The most deliveries written to a socket before it is flushed.
const BATCH: usize = 64;

/// Writes `first` and the deliveries already waiting behind it (up to [`BATCH`]) to the
/// socket, then flushes once: under load many frames leave in one write. `Ok(true)` when
/// something was missed and the followed runs must be refilled from the store; `Err` when the
/// socket is gone.
async fn send_deliveries(
    socket: &mut WebSocket,
    follower: &mut Follower,
    following: &mut HashMap<String, u64>,
    first: Delivery,
) -> Result<bool, ()> {
    let mut next = Some(first);
    let mut written = 0;
    let mut gap = false;
    while let Some(delivery) = next.take() {
        match delivery {
            Delivery::Event(published) => match following.get_mut(&published.run) {
                Some(last) if published.seq == *last + 1 => {
                    *last = published.seq;
                    socket
                        .feed(Message::Text(published.json.clone().into()))
                        .await
                        .map_err(|_| ())?;
                    written += 1;
                }
                // Already sent (from the log), or no longer followed.
                Some(last) if published.seq <= *last => {}
                None => {}
                // Something in between never reached us.
                Some(_) => gap = true,
            },
            Delivery::Refill => gap = true,
        }
        if gap || written >= BATCH {
            break;
        }
        next = follower.deliveries.try_recv().ok();
    }
    if written > 0 {
        socket.flush().await.map_err(|_| ())?;
    }
    Ok(gap)
}

/// Sends every followed run's stored events after the last one sent. `Err` when the socket
/// is gone.
async fn refill(
    socket: &mut WebSocket,
    store: &switchyard_orchestrator::runlog::RunLog,
    following: &mut HashMap<String, u64>,
) -> Result<(), ()> {
    let runs: Vec<String> = following.keys().cloned().collect();
    for run in runs {
        let after = following[&run];
        let Ok(events) = store.events(&run, after).await else {
            continue;
        };
        for event in &events {
            socket
                .send(event_message(&run, event))
                .await
                .map_err(|_| ())?;
            following.insert(run.clone(), event.seq);
        }
    }
    Ok(())
}

async fn serve(mut socket: WebSocket, who: Principal, service: Service) {
    let store = service.runs();
    // Followed runs' events come through the process's one bus reader, serialized once; the
    // whole bus only while a topic is watched.
    let mut follower = service.followers().join();
    let mut bus: Option<tokio::sync::broadcast::Receiver<_>> = None;
    let mut bell = service.bell_changes();
    let own_bell = who.recipient();
    // Run id → the last seq sent.
    let mut following: HashMap<String, u64> = HashMap::new();
    let mut watching: HashSet<Topic> = HashSet::new();
    // Run id → whether the caller may see it, learnt on its first event under a topic.
    let mut visible: HashMap<String, bool> = HashMap::new();
    // The planning followed, by its id: one at a time.
    let mut planning: Option<(String, PlanningReceiver)> = None;
    // The chat answer followed, by its key: one at a time.
    let mut answer: Option<(String, AnswerReceiver)> = None;
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
                        // Follow first, then read the log: nothing falls between the two (a
                        // delivery already sent from the log is skipped by its seq).
                        follower.follow(&subscribe);
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
                        follower.unfollow(&unsubscribe);
                    }
                    Ok(ClientMessage::Watch { watch }) => {
                        watching.insert(watch);
                        if bus.is_none() {
                            bus = Some(service.engine().subscribe());
                        }
                    }
                    Ok(ClientMessage::Unwatch { unwatch }) => {
                        watching.remove(&unwatch);
                        if watching.is_empty() {
                            bus = None;
                        }
                    }
                    Ok(ClientMessage::Ping { ping }) => {
                        if socket.send(message(&ServerMessage::Pong { pong: ping })).await.is_err() {
                            return;
                        }
                    }
                    Ok(ClientMessage::FollowAnswer { answer: key }) => {
                        let followed = match parse_answer_key(&key) {
                            Some((conversation, seq)) => service.follow_answer(&who, conversation, seq),
                            None => Err(switchyard_service::ServiceError::invalid(
                                "an answer is followed as \"CONVERSATION:SEQ\"",
                            )),
                        };
                        match followed {
                            Ok(progress) => answer = Some((key, progress)),
                            Err(e) => {
                                let _ = socket.send(error_message(&e.message)).await;
                            }
                        }
                    }
                    Ok(ClientMessage::FollowPlanning { planning: id }) => {
                        match service.follow_planning(&who, &id) {
                            Ok(progress) => planning = Some((id, progress)),
                            Err(e) => {
                                let _ = socket.send(error_message(&e.message)).await;
                            }
                        }
                    }
                    Err(_) => {
                        let _ = socket.send(error_message(
                            "expected {\"subscribe\": \"<run id>\", \"after\": 0}, {\"unsubscribe\": \"<run id>\"}, \
                             {\"watch\": \"runs\"|\"approvals\"|\"notifications\"}, {\"unwatch\": …}, \
                             {\"planning\": \"<planning id>\"}, {\"answer\": \"<conversation>:<seq>\"} or {\"ping\": n}",
                        )).await;
                    }
                }
            }
            progress = next_state(&mut planning, Clone::clone) => {
                let Some((id, progress)) = progress else {
                    planning = None;
                    continue;
                };
                if progress.stage.is_final() {
                    planning = None;
                }
                let sent = socket
                    .send(message(&ServerMessage::Planning { planning: id, progress }))
                    .await;
                if sent.is_err() {
                    return;
                }
            }
            progress = next_state(&mut answer, |a| Some(a.clone())) => {
                let Some((key, progress)) = progress else {
                    answer = None;
                    continue;
                };
                let sent = socket
                    .send(message(&ServerMessage::Answer { answer: key, progress }))
                    .await;
                if sent.is_err() {
                    return;
                }
            }
            changed = bell.recv() => {
                let mine = match changed {
                    Ok(recipient) => own_bell.as_deref() == Some(recipient.as_str()),
                    // Missed some: say it may have changed.
                    Err(RecvError::Lagged(_)) => own_bell.is_some(),
                    Err(RecvError::Closed) => false,
                };
                if mine && watching.contains(&Topic::Notifications) {
                    let change = RunChange { run: String::new(), seq: 0, kind: "notification".into() };
                    let sent = socket
                        .send(message(&ServerMessage::Changed { topic: Topic::Notifications, change }))
                        .await;
                    if sent.is_err() {
                        return;
                    }
                }
            }
            delivery = follower.deliveries.recv() => {
                let Some(delivery) = delivery else { return };
                match send_deliveries(&mut socket, &mut follower, &mut following, delivery).await {
                    Ok(false) => {}
                    Ok(true) => {
                        if refill(&mut socket, store, &mut following).await.is_err() {
                            return;
                        }
                    }
                    Err(()) => return,
                }
            }
            published = next_published(&mut bus) => {
                match published {
                    Ok((run, event)) => {
                        if !watching.is_empty()
                            && send_changes(&mut socket, &service, &who, &watching, &mut visible, &run, &event)
                                .await
                                .is_err()
                        {
                            return;
                        }
                    }
                    // Topics say "something changed": a missed one is made up by the next.
                    Err(RecvError::Lagged(_)) => {}
                    Err(RecvError::Closed) => {
                        close(&mut socket, close_code::AWAY, "the server is stopping").await;
                        return;
                    }
                }
            }
        }
    }
}
