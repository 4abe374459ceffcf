//! `GET /api/v1/live`: the messages of the one WebSocket a browser tab keeps open.
//!
//! A client follows runs by id (`subscribe`, resumable: `after` is the last `seq` it has, and
//! the server sends the stored events after it before the live ones, so a reconnect has no
//! gap and no duplicate) and watches topics (`watch`): every change to the runs it may see,
//! to the approvals waiting for a person, or to its own notifications bell. A topic message says *that* something changed,
//! and what; the client re-reads the list it shows. `ping` is the application heartbeat
//! (browsers report `send` on a dead socket as a success): the server answers `pong` with the
//! same number at once. `planning` follows the planning of a goal the same person is
//! submitting with that planning id: the cache's answer, each try as the model writes it,
//! why a try was refused.

use serde::{Deserialize, Serialize};

use crate::api::runs::PlanningProgress;
use crate::conversation::AnswerProgress;
use crate::event::RunEvent;

/// A topic a client can watch.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Topic {
    /// Every event of every run the client may see, as a [`RunChange`].
    Runs,
    /// Events that can add or remove a step waiting for approval, as a [`RunChange`].
    Approvals,
    /// The caller's notifications bell changed (a new one, or some marked read): a
    /// [`RunChange`] with an empty `run` and the kind `notification`.
    Notifications,
}

/// What a client sends.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(untagged, deny_unknown_fields)]
pub enum ClientMessage {
    /// Follow a run: its events after `after`, then live ones.
    Subscribe {
        subscribe: String,
        #[serde(default)]
        after: u64,
    },
    Unsubscribe {
        unsubscribe: String,
    },
    Watch {
        watch: Topic,
    },
    Unwatch {
        unwatch: Topic,
    },
    /// The heartbeat; the server answers [`ServerMessage::Pong`] with the same number.
    Ping {
        ping: u64,
    },
    /// Follow the planning of a goal this client is submitting with the same planning id
    /// (the socket follows one at a time; a new one replaces the last).
    FollowPlanning {
        planning: String,
    },
    /// Follow one of this person's chat answers while the server writes it
    /// (`CONVERSATION:SEQ`; one at a time, a new one replaces the last).
    FollowAnswer {
        answer: String,
    },
}

/// What the server sends.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum ServerMessage {
    /// An event of a followed run.
    Event {
        run: String,
        event: RunEvent,
    },
    /// A change under a watched topic.
    Changed {
        topic: Topic,
        change: RunChange,
    },
    Pong {
        pong: u64,
    },
    /// How the followed planning is going (the latest state; intermediate ones may be
    /// skipped when they come faster than the socket sends).
    Planning {
        planning: String,
        progress: PlanningProgress,
    },
    /// The followed chat answer: its text so far and where it stands (the latest state).
    Answer {
        answer: String,
        progress: AnswerProgress,
    },
    /// A message the server refused, and why.
    Error {
        error: String,
    },
}

/// One event of a run, in brief: enough for a list to know which row to re-read.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RunChange {
    pub run: String,
    pub seq: u64,
    /// The event's kind, e.g. `run_started`.
    pub kind: String,
}

/// Whether an event of this kind can change which steps wait for approval: a run starting
/// (its first steps may be risky), a step finishing (it may unblock a risky one), a decision,
/// and a run ending (its waiting steps are skipped).
pub fn touches_approvals(kind: &str) -> bool {
    !matches!(
        kind,
        "step_leased" | "lease_extended" | "step_failed" | "lease_expired" | "step_compensated"
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_read_as_the_socket_documents_them() {
        let read = |text: &str| serde_json::from_str::<ClientMessage>(text).unwrap();
        assert_eq!(
            read(r#"{"subscribe": "r1", "after": 4}"#),
            ClientMessage::Subscribe {
                subscribe: "r1".into(),
                after: 4
            }
        );
        assert_eq!(
            read(r#"{"watch": "approvals"}"#),
            ClientMessage::Watch {
                watch: Topic::Approvals
            }
        );
        assert_eq!(read(r#"{"ping": 9}"#), ClientMessage::Ping { ping: 9 });
        assert_eq!(
            read(r#"{"planning": "p1"}"#),
            ClientMessage::FollowPlanning {
                planning: "p1".into()
            }
        );
        assert!(serde_json::from_str::<ClientMessage>(r#"{"watch": "everything"}"#).is_err());
        assert!(serde_json::from_str::<ClientMessage>(r#"{"ping": 1, "x": 2}"#).is_err());
        let change = ServerMessage::Changed {
            topic: Topic::Runs,
            change: RunChange {
                run: "r1".into(),
                seq: 2,
                kind: "run_started".into(),
            },
        };
        let text = serde_json::to_string(&change).unwrap();
        assert_eq!(
            text,
            r#"{"topic":"runs","change":{"run":"r1","seq":2,"kind":"run_started"}}"#
        );
        assert_eq!(
            serde_json::from_str::<ServerMessage>(&text).unwrap(),
            change
        );
        assert_eq!(
            serde_json::from_str::<ServerMessage>(r#"{"pong": 3}"#).unwrap(),
            ServerMessage::Pong { pong: 3 }
        );
        assert!(!touches_approvals("lease_extended"));
        assert!(touches_approvals("step_succeeded"));
    }
}
