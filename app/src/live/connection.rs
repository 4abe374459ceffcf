//! The socket itself (browser only): open, resubscribe, heartbeat, reconnect.

use std::collections::{HashMap, HashSet};
use std::time::Duration;

use futures_channel::mpsc::{UnboundedReceiver, UnboundedSender, unbounded};
use futures_util::future::{Either, select};
use futures_util::{SinkExt, StreamExt};
use gloo_net::websocket::Message;
use gloo_net::websocket::futures::WebSocket;
use leptos::prelude::*;
use serde::Deserialize;
use serde_json::Value;
use switchyard_protocol::api::live::{ClientMessage, Topic};
use switchyard_protocol::api::runs::PlanningProgress;
use switchyard_protocol::conversation::{AnswerProgress, AnswerStatus};

use super::{LinkState, Live};

/// A heartbeat this often.
const PING_EVERY_MS: f64 = 5_000.0;
/// Silence this long (no pong, no event) means the socket is dead, whatever `send` says.
const DEAD_AFTER_MS: f64 = 12_000.0;
/// How often the session looks at the clock when nothing arrives.
const TICK_MS: u64 = 1_000;
/// Failed tries in a row before the indicator says offline.
const OFFLINE_AFTER: u32 = 4;
/// Changes under a topic within this window tick its counter once.
const COALESCE_MS: u64 = 250;

/// What the tab follows and watches, so a reconnect can ask for it again.
#[derive(Default)]
pub struct Tab {
    /// The tab's owner (the shell's): followed runs' signals live as long as the tab, not
    /// as long as the page that first asked (a page that goes away disposes its own).
    owner: Option<Owner>,
    outbox: Option<UnboundedSender<ClientMessage>>,
    following: HashMap<String, Followed>,
    watching: HashSet<Topic>,
    /// The planning followed, by its id, until it ends.
    planning: Option<String>,
    /// The chat answer followed, by its key, until it is written.
    answer: Option<String>,
    runs_pending: bool,
    approvals_pending: bool,
    bell_pending: bool,
}

impl Tab {
    /// Whether a tick of `topic`'s counter is already on its way.
    fn pending(&mut self, topic: Topic) -> &mut bool {
        match topic {
            Topic::Runs => &mut self.runs_pending,
            Topic::Approvals => &mut self.approvals_pending,
            Topic::Notifications => &mut self.bell_pending,
        }
    }
}

struct Followed {
    /// The last `seq` the tab has.
    last: u64,
    events: RwSignal<Vec<Value>>,
}

/// [`switchyard_protocol::api::live::ServerMessage`] as the tab reads it: events stay JSON
/// (their `seq` read out), so the bundle carries no decoder for every event kind, plan and
/// timestamp; a page that shows events reads the fields it shows.
#[derive(Deserialize)]
#[serde(untagged)]
enum Incoming {
    Event {
        run: String,
        event: Value,
    },
    Changed {
        topic: Topic,
    },
    Pong {
        #[allow(dead_code)] // matched, not read
        pong: u64,
    },
    Planning {
        planning: String,
        progress: PlanningProgress,
    },
    Answer {
        answer: String,
        progress: AnswerProgress,
    },
    Error {
        error: String,
    },
}

#[derive(Debug, PartialEq, Eq)]
enum Ended {
    /// The socket failed, closed or went silent: connect again.
    Lost,
    /// The tab's handle is gone: stop.
    Closed,
}

pub fn start(live: Live) {
    live.tab.update_value(|tab| tab.owner = Owner::current());
    let (outbox, inbox) = unbounded();
    live.tab.update_value(|tab| tab.outbox = Some(outbox));
    leptos::task::spawn_local(run(live, inbox));
}

pub fn watch(live: Live, topic: Topic) {
    let new = live
        .tab
        .try_update_value(|tab| tab.watching.insert(topic))
        .unwrap_or(false);
    if new {
        send(live, ClientMessage::Watch { watch: topic });
    }
}

pub fn follow(live: Live, id: &str) -> RwSignal<Vec<Value>> {
    if let Some(events) = live
        .tab
        .with_value(|tab| tab.following.get(id).map(|f| f.events))
    {
        return events;
    }
    let owner = live.tab.with_value(|tab| tab.owner.clone());
    let events = match owner {
        Some(owner) => owner.with(|| RwSignal::new(Vec::new())),
        None => RwSignal::new(Vec::new()),
    };
    live.tab.update_value(|tab| {
        tab.following
            .insert(id.to_owned(), Followed { last: 0, events });
    });
    send(
        live,
        ClientMessage::Subscribe {
            subscribe: id.to_owned(),
            after: 0,
        },
    );
    events
}

pub fn follow_planning(live: Live, id: &str) {
    live.tab
        .update_value(|tab| tab.planning = Some(id.to_owned()));
    send(
        live,
        ClientMessage::FollowPlanning {
            planning: id.to_owned(),
        },
    );
}

pub fn follow_answer(live: Live, key: &str) {
    live.tab
        .update_value(|tab| tab.answer = Some(key.to_owned()));
    send(
        live,
        ClientMessage::FollowAnswer {
            answer: key.to_owned(),
        },
    );
}

fn send(live: Live, message: ClientMessage) {
    live.tab.with_value(|tab| {
        if let Some(outbox) = &tab.outbox {
            let _ = outbox.unbounded_send(message);
        }
    });
}

async fn run(live: Live, mut outbox: UnboundedReceiver<ClientMessage>) {
    let mut failures: u32 = 0;
    loop {
        let opened = now();
        let ended = match WebSocket::open(&url()) {
            Ok(socket) => session(live, socket, &mut outbox).await,
            Err(_) => Ended::Lost,
        };
        if ended == Ended::Closed {
            return;
        }
        // A connection that lived a while starts the count again.
        failures = if now() - opened > 30_000.0 {
            1
        } else {
            failures + 1
        };
        live.link.set(if failures >= OFFLINE_AFTER || !online() {
            LinkState::Offline
        } else {
            LinkState::Reconnecting
        });
        sleep(backoff_ms(failures)).await;
        // The socket's upgrade reads the access cookie and cannot renew it: after a tab has
        // been open longer than the access token lives, a reconnect would be refused. Any
        // server function passes the sign-in guard, which renews it from the refresh cookie.
        let _ = crate::server_fns::account::current_account().await;
    }
}

/// 1 s, 2 s, 4 s … up to 15 s, each ±50 % at random so tabs do not return in step.
fn backoff_ms(failures: u32) -> u64 {
    let base = (500_u64 << failures.min(5)).min(15_000) as f64;
    (base * (0.5 + web_sys::js_sys::Math::random())) as u64
}

async fn session(
    live: Live,
    socket: WebSocket,
    outbox: &mut UnboundedReceiver<ClientMessage>,
) -> Ended {
    let (mut write, mut read) = socket.split();
    // What queued while the link was down is in the hello below.
    while outbox.try_recv().is_ok() {}
    let hello: Vec<ClientMessage> = live.tab.with_value(|tab| {
        let topics = tab
            .watching
            .iter()
            .map(|&watch| ClientMessage::Watch { watch });
        let runs = tab
            .following
            .iter()
            .map(|(id, followed)| ClientMessage::Subscribe {
                subscribe: id.clone(),
                after: followed.last,
            });
        let planning = tab.planning.iter().map(|id| ClientMessage::FollowPlanning {
            planning: id.clone(),
        });
        let answer = tab.answer.iter().map(|key| ClientMessage::FollowAnswer {
            answer: key.clone(),
        });
        topics.chain(runs).chain(planning).chain(answer).collect()
    });
    let mut ping: u64 = 1;
    for message in std::iter::once(ClientMessage::Ping { ping }).chain(hello) {
        if write.send(text(&message)).await.is_err() {
            return Ended::Lost;
        }
    }
    let (mut last_heard, mut last_ping) = (now(), now());
    // One timer at a time, kept across messages: a burst of events sets no timers.
    let mut tick = Box::pin(sleep(TICK_MS));
    loop {
        let incoming = select(read.next(), outbox.next());
        match select(incoming, &mut tick).await {
            Either::Left((Either::Left((frame, _)), _)) => match frame {
                Some(Ok(Message::Text(text))) => {
                    last_heard = now();
                    dispatch(live, &text);
                }
                Some(Ok(Message::Bytes(_))) => last_heard = now(),
                Some(Err(_)) | None => return Ended::Lost,
            },
            Either::Left((Either::Right((message, _)), _)) => match message {
                Some(message) => {
                    if write.send(text(&message)).await.is_err() {
                        return Ended::Lost;
                    }
                }
                None => return Ended::Closed,
            },
            Either::Right(_) => tick = Box::pin(sleep(TICK_MS)),
        }
        let now = now();
        if now - last_heard > DEAD_AFTER_MS {
            return Ended::Lost;
        }
        if now - last_ping >= PING_EVERY_MS {
            ping += 1;
            last_ping = now;
            if write
                .send(text(&ClientMessage::Ping { ping }))
                .await
                .is_err()
            {
                return Ended::Lost;
            }
        }
    }
}

fn dispatch(live: Live, text: &str) {
    // from_slice, as server functions decode: one copy of the JSON decoder in the bundle.
    let Ok(message) = serde_json::from_slice::<Incoming>(text.as_bytes()) else {
        return;
    };
    match message {
        Incoming::Pong { .. } => {
            if live.link.get_untracked() != LinkState::Live {
                live.link.set(LinkState::Live);
            }
        }
        Incoming::Event { run, event } => {
            let Some(seq) = event["seq"].as_u64() else {
                return;
            };
            // Decide inside, update the signal outside: its effects may call back here.
            let target = live
                .tab
                .try_update_value(|tab| {
                    let followed = tab.following.get_mut(&run)?;
                    (seq > followed.last).then(|| {
                        followed.last = seq;
                        followed.events
                    })
                })
                .flatten();
            if let Some(events) = target {
                events.update(|list| list.push(event));
            }
        }
        Incoming::Changed { topic } => tick_soon(live, topic),
        Incoming::Answer { answer, progress } => {
            let mine = live
                .tab
                .try_update_value(|tab| {
                    let mine = tab.answer.as_deref() == Some(answer.as_str());
                    if mine && progress.status != AnswerStatus::Generating {
                        tab.answer = None;
                    }
                    mine
                })
                .unwrap_or(false);
            if mine {
                live.answer.set(Some(progress));
            }
        }
        Incoming::Planning { planning, progress } => {
            let mine = live
                .tab
                .try_update_value(|tab| {
                    let mine = tab.planning.as_deref() == Some(planning.as_str());
                    if mine && progress.stage.is_final() {
                        tab.planning = None;
                    }
                    mine
                })
                .unwrap_or(false);
            if mine {
                live.planning.set(Some((planning, progress)));
            }
        }
        Incoming::Error { error } => leptos::logging::warn!("live: {error}"),
    }
}

/// Ticks `topic`'s counter once for a burst of changes.
fn tick_soon(live: Live, topic: Topic) {
    let first = live
        .tab
        .try_update_value(|tab| !std::mem::replace(tab.pending(topic), true))
        .unwrap_or(false);
    if !first {
        return;
    }
    set_timeout(
        move || {
            live.tab.update_value(|tab| *tab.pending(topic) = false);
            let counter = match topic {
                Topic::Runs => live.runs_changed,
                Topic::Approvals => live.approvals_changed,
                Topic::Notifications => live.bell_changed,
            };
            counter.update(|n| *n += 1);
        },
        Duration::from_millis(COALESCE_MS),
    );
}

fn text(message: &ClientMessage) -> Message {
    Message::Text(serde_json::to_string(message).unwrap_or_default())
}

fn now() -> f64 {
    web_sys::js_sys::Date::now()
}

fn online() -> bool {
    web_sys::window().is_none_or(|w| w.navigator().on_line())
}

fn url() -> String {
    let Some(location) = web_sys::window().map(|w| w.location()) else {
        return String::new();
    };
    let scheme = if location.protocol().ok().as_deref() == Some("https:") {
        "wss"
    } else {
        "ws"
    };
    format!(
        "{scheme}://{}/api/v1/live",
        location.host().unwrap_or_default()
    )
}

async fn sleep(ms: u64) {
    let (done, wait) = futures_channel::oneshot::channel::<()>();
    set_timeout(
        move || {
            let _ = done.send(());
        },
        Duration::from_millis(ms),
    );
    let _ = wait.await;
}
