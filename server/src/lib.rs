//! The Switchyard server: configuration, start-up and shutdown, the HTTP surface, CLI commands.
//!
//! # Layout
//!
//! Floors, lowest first; a module imports only from its own floor or below.
//!
//! 1. [`config`]: the one typed [`config::Config`], layered flags > `SWITCHYARD_*` env >
//!    `switchyard.toml` > defaults, validated before anything is created: `args` (the
//!    flags and their variables, read by clap), one resolve per domain (`inference`, `store`),
//!    and printing through a redacting `Serialize`.
//! 2. [`telemetry`] (tracing output, human or JSON); [`startup`] (data dir and database
//!    preparation that undoes what it created when a later step fails); [`auth`] (the token
//!    keys, the first admin from the environment, where a request comes from).
//! 3. The HTTP surface: [`state`] ([`state::AppState`]: Leptos' options and the
//!    [`switchyard_service::Service`], whose use cases every handler calls), [`api`]
//!    (`/api/v1` handlers and their JSON errors), [`openai`] (`/v1`), [`session`] (the sign-in
//!    form, logout, the guard in front of pages and server functions), [`hardening`]
//!    (security headers, body limits, the same-origin check on writes), [`assets`] (static
//!    files), and [`routes`] (every route in one place, and the router).
//! 4. [`commands`]: one module per command (serve, run, store, admin, bench).
//! 5. [`cli`]: the command line and `main`, which turns any failure into one line on stderr
//!    and a non-zero exit. Nothing imports it.

// The shell's view type is deep; computing its layout inside the router needs more than
// the default 128 levels.
#![recursion_limit = "256"]

pub mod api;
pub mod assets;
pub mod auth;
pub mod cli;
pub mod commands;
pub mod config;
pub mod hardening;
pub mod openai;
pub mod routes;
pub mod session;
pub mod startup;
pub mod state;
pub mod telemetry;
