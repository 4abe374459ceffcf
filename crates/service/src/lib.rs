//! Switchyard's use cases, once. The REST handlers, the server functions behind the pages,
//! the CLI and the tests all call a [`Service`] with a [`Principal`], and get a
//! [`ServiceError`] they map once to their own shape. No axum, no Leptos here.
//!
//! # Layout
//!
//! - [`service`]: [`Service`], the engines started together ([`Service::start`],
//!   [`Settings`]) and handed to every use case.
//! - [`access`]: [`Access`], the one resolver from presented credentials (token, API key,
//!   WebSocket ticket, session) to a [`Principal`].
//! - [`principal`]: [`Principal`], who calls and what they may see and do; auditing what
//!   they did ([`Principal::audited`]).
//! - [`error`]: [`ServiceError`] and its [`ErrorKind`] (which HTTP status).
//! - [`runs`]: submit (plan or goal), list, state, events, planning record, the pages'
//!   views; cancel, pause, resume, approve, reject, the approvals inbox.
//! - [`workflows`]: workflow templates: save (checked as they will run), read, run with
//!   parameters checked field by field, wait for a run's end.
//! - [`notifications`]: the bell: approvals waiting, failed runs, one's own finished runs,
//!   per person, kept on the server; made from the engine's events.
//! - [`query`]: the search index (SQLite FTS5 / PostgreSQL `tsvector`) over runs, datasets
//!   and agents' log lines, kept as they change; ranked, with snippets.
//! - [`search`]: the top bar's search: the index, runs by part of their id, workflow
//!   templates.
//! - [`chat`]: the orchestrator panel's chat mode: conversations kept per person, answers
//!   the server writes with the local model, followed as they grow, stopped on request.
//! - [`datasets`]: the panel's data mode: uploads checked as they arrive and kept in staging,
//!   then, once confirmed, written into the tiered store as named datasets with progress.
//! - [`admin`]: accounts, projects, API keys, kill switches and the audit log, each change
//!   audited with its outcome.
//! - [`followers`]: run events fanned out to the live sockets that follow them, each
//!   serialized once.
//! - [`health`]: the one health document (database, store, models, plan cache).
//! - [`planning`]: goals into plans, and the records of how each goal was planned.
//! - [`gate`]: tools behind kill switches.
//! - [`background`]: usage figures into time series; store tiering.
//! - [`brief`]: short forms of long values (a run id's tail, clipped text) for titles.

pub mod access;
pub mod admin;
pub mod background;
pub mod brief;
pub mod chat;
pub mod datasets;
pub mod error;
pub mod followers;
pub mod gate;
pub mod health;
pub mod notifications;
pub mod planning;
pub mod principal;
pub mod query;
pub mod runs;
pub mod search;
pub mod service;
pub mod workflows;

pub use access::{Access, Channel, Credentials};
pub use error::{ErrorKind, ServiceError};
pub use principal::{Client, Identity, Principal};
pub use service::{Service, Settings, StartError};
