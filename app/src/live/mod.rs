//! The tab's one live connection to the server: a WebSocket to `/api/v1/live` that every
//! page shares (the messages are [`switchyard_protocol::api::live`]'s).
//!
//! # Layout
//!
//! - this file: [`Live`], the handle pages use: the link's state for the top bar's
//!   indicator, counters that tick when a watched topic changes, and runs to follow.
//! - [`connection`] (browser only): opens the socket, resubscribes after every reconnect
//!   (each followed run after the last `seq` the tab has, so nothing is missed or repeated),
//!   sends the heartbeat and declares the socket dead when the server stops answering,
//!   reconnects with backoff and jitter.
//!
//! On the server the handle exists too (pages render the same), with the link `connecting`;
//! the browser takes over when it hydrates.

#[cfg(feature = "hydrate")]
mod connection;

use leptos::prelude::*;
use switchyard_protocol::api::live::Topic;
use switchyard_protocol::api::runs::PlanningProgress;
use switchyard_protocol::conversation::AnswerProgress;

/// Where the link stands, as the top bar shows it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LinkState {
    /// The first connection is being opened (and what the server renders).
    Connecting,
    /// Open, and the server answered the last heartbeat.
    Live,
    /// Lost; trying again with backoff.
    Reconnecting,
    /// Several tries in a row failed, or the browser says it has no network; still trying.
    Offline,
}

impl LinkState {
    /// The word the indicator shows, also its `data-state`.
    pub fn word(self) -> &'static str {
        match self {
            Self::Connecting => "connecting",
            Self::Live => "live",
            Self::Reconnecting => "reconnecting",
            Self::Offline => "offline",
        }
    }

    /// What the indicator's tooltip says.
    pub fn explain(self) -> &'static str {
        match self {
            Self::Connecting => "Connecting to the server for live updates",
            Self::Live => "Live: changes appear as they happen",
            Self::Reconnecting => {
                "Connection lost: reconnecting; what happens meanwhile arrives when it is back"
            }
            Self::Offline => "Offline: the server cannot be reached; still trying",
        }
    }
}

/// The handle every page shares (`Live::expect()`); cheap to copy.
#[derive(Clone, Copy)]
pub struct Live {
    /// The link's state.
    pub link: RwSignal<LinkState>,
    /// Ticks when a run the user may see changed (after [`Live::watch`]`(Topic::Runs)`); a
    /// burst of changes ticks once.
    pub runs_changed: RwSignal<u64>,
    /// Ticks when the approvals waiting may have changed (after `watch(Topic::Approvals)`).
    pub approvals_changed: RwSignal<u64>,
    /// Ticks when this person's notifications changed (after `watch(Topic::Notifications)`).
    pub bell_changed: RwSignal<u64>,
    /// The planning this tab follows ([`Live::follow_planning`]): its id and latest state.
    pub planning: RwSignal<Option<(String, PlanningProgress)>>,
    /// The chat answer this tab follows ([`Live::follow_answer`]): its latest state.
    pub answer: RwSignal<Option<AnswerProgress>>,
    #[cfg(feature = "hydrate")]
    tab: StoredValue<connection::Tab, LocalStorage>,
}

impl Live {
    /// Creates the handle for this tab and, in the browser, opens the connection.
    pub fn provide() -> Self {
        let live = Self {
            link: RwSignal::new(LinkState::Connecting),
            runs_changed: RwSignal::new(0),
            approvals_changed: RwSignal::new(0),
            bell_changed: RwSignal::new(0),
            planning: RwSignal::new(None),
            answer: RwSignal::new(None),
            #[cfg(feature = "hydrate")]
            tab: StoredValue::new_local(connection::Tab::default()),
        };
        provide_context(live);
        #[cfg(feature = "hydrate")]
        connection::start(live);
        live
    }

    pub fn expect() -> Self {
        expect_context()
    }

    /// Asks for changes under `topic` from now on (for the rest of the tab's life).
    pub fn watch(&self, topic: Topic) {
        #[cfg(feature = "hydrate")]
        connection::watch(*self, topic);
        #[cfg(not(feature = "hydrate"))]
        let _ = topic;
    }

    /// Follows the planning of a goal this tab is about to submit with planning id `id`
    /// (replacing any other): [`Live::planning`] holds its latest state as the server sends it.
    pub fn follow_planning(&self, id: &str) {
        self.planning.set(None);
        #[cfg(feature = "hydrate")]
        connection::follow_planning(*self, id);
        #[cfg(not(feature = "hydrate"))]
        let _ = id;
    }

    /// Follows the chat answer `key` (`CONVERSATION:SEQ`) while the server writes it
    /// (replacing any other): [`Live::answer`] holds its latest state.
    pub fn follow_answer(&self, key: &str) {
        self.answer.set(None);
        #[cfg(feature = "hydrate")]
        connection::follow_answer(*self, key);
        #[cfg(not(feature = "hydrate"))]
        let _ = key;
    }

    /// A fresh planning id: random, 16 hex digits (empty on the server, which submits nothing).
    pub fn new_planning_id() -> String {
        #[cfg(feature = "hydrate")]
        {
            let half = || (web_sys::js_sys::Math::random() * 4_294_967_296.0) as u64;
            format!("{:08x}{:08x}", half(), half())
        }
        #[cfg(not(feature = "hydrate"))]
        String::new()
    }

    /// The events of run `id` (as JSON: a `RunEvent` each), in order, kept current while the
    /// tab lives: the stored ones first, then live ones, across reconnects without gaps or
    /// repeats.
    pub fn follow(&self, id: &str) -> RwSignal<Vec<serde_json::Value>> {
        #[cfg(feature = "hydrate")]
        {
            connection::follow(*self, id)
        }
        #[cfg(not(feature = "hydrate"))]
        {
            let _ = id;
            RwSignal::new(Vec::new())
        }
    }
}
