//! The Switchyard server: configuration, start-up and shutdown, the HTTP surface, CLI commands.
//!
//! # Layout
//!
//! - [`cli`]: the command line (clap) and `main`, which turns any start-up failure into one
//!   line on stderr and a non-zero exit.
//! - [`client`]: `switchyard run submit | list | watch`, a client of the REST API.
//! - [`bench`]: `switchyard bench …`, measurements printed beside a baseline.
//! - [`config`]: the one typed [`config::Config`], layered flags > `SWITCHYARD_*` env >
//!   `switchyard.toml` > defaults, validated before anything is created.
//! - [`startup`]: data dir and database preparation that undoes what it created when a later
//!   step fails.
//! - [`serve`]: the `serve` command: bind, migrate, register, serve, shut down gracefully.
//! - [`hardening`]: security headers, the body size limit, the same-origin check on writes.
//! - [`session`]: browser sessions: the sign-in form, logout, and the guard in front of
//!   pages and server functions when `auth_required` is on.
//! - [`routes`]: every route path in one place and the router built from them.
//! - [`api`]: `/api/v1` REST handlers and their JSON errors.
//! - [`auth`]: the token keys, the first admin from the environment, who a request is from.
//! - [`auth_cli`]: `switchyard user add | list` and `switchyard audit verify | list`.
//! - [`assets`]: static files: immutable caching for hashed bundles, compression.
//! - [`state`]: [`state::AppState`]: Leptos' options and the [`switchyard_service::Service`],
//!   whose use cases every handler calls.
//! - [`store`]: `switchyard store verify | stats | tier | archive | restore | maintain`.
//! - [`store_settings`]: the store's settings (objects, policy, queue, archive key) and
//!   opening the store they describe.
//! - [`telemetry`]: tracing output, human or JSON.

// The shell's view type is deep; computing its layout inside the router needs more than
// the default 128 levels.
#![recursion_limit = "256"]

pub mod api;
pub mod assets;
pub mod auth;
pub mod auth_cli;
pub mod bench;
pub mod cli;
pub mod client;
pub mod config;
pub mod hardening;
pub mod inference_settings;
pub mod openai;
pub mod routes;
pub mod serve;
pub mod session;
pub mod startup;
pub mod state;
pub mod store;
pub mod store_settings;
pub mod telemetry;
