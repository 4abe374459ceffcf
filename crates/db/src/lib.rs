//! Switchyard's SQL database: one handle over SQLite (the embedded default) or PostgreSQL
//! (to scale out), opened with explicit settings and migrated at start-up.
//!
//! # Layout
//!
//! - [`url`]: parsing and checking a database URL before anything touches the disk or network.
//! - [`connect`]: [`Database`], the pool for either backend, with SQLite's pragmas and the
//!   `BEGIN IMMEDIATE` write transaction.
//! - [`migrate`]: the two migration sets (`migrations/sqlite`, `migrations/postgres`), kept in step.
//! - [`nodes`]: each server process registers itself and records when it stopped.
//! - [`error`]: [`DbError`], whose `Display` is the one line an operator sees.
//! - `testing` (feature `testing`): a throw-away PostgreSQL database per test.
//!
//! Engine crates (orchestrator, store) take a [`Database`] and use its pools directly; this
//! crate owns only what every one of them shares: opening, migrating, probing.

/// Evaluates `$body` with `$pool` bound to whichever pool `$db` holds: one query text, typed
/// for each backend. The engine crates take it with `#[macro_use] extern crate switchyard_db;`.
#[macro_export]
macro_rules! on_pool {
    ($db:expr, $pool:ident => $body:expr) => {
        match $db {
            $crate::Database::Sqlite($pool) => $body,
            $crate::Database::Postgres($pool) => $body,
        }
    };
}

pub mod connect;
pub mod error;
pub mod migrate;
pub mod nodes;
#[cfg(feature = "testing")]
pub mod testing;
pub mod url;

pub use connect::{ConnectOptions, Database, SqliteSync};
pub use error::DbError;
pub use url::DatabaseUrl;
