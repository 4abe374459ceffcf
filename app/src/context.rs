//! What the server provides to components and server functions (`ssr` only).
//!
//! The server builds one [`ServerContext`] at start-up and provides it with
//! `leptos_routes_with_context`; the REST handlers hold the same value, so a page and the API
//! read the same state.

use std::time::{Duration, Instant};

use leptos::prelude::*;
use switchyard_db::Database;
use switchyard_protocol::{Health, HealthStatus};

/// How long the health probe waits for the database before calling it down.
pub const DB_PROBE_DEADLINE: Duration = Duration::from_secs(2);

/// Handles to the engines, shared by every request.
#[derive(Debug, Clone)]
pub struct ServerContext {
    pub db: Database,
    pub started: Instant,
    /// The keys that verify session access tokens; `None` until the server sets them.
    pub tokens: Option<switchyard_auth::TokenKeys>,
}

impl ServerContext {
    pub fn new(db: Database) -> Self {
        Self {
            db,
            started: Instant::now(),
            tokens: None,
        }
    }

    /// The same context, verifying sessions with `keys`.
    pub fn with_tokens(mut self, keys: switchyard_auth::TokenKeys) -> Self {
        self.tokens = Some(keys);
        self
    }

    /// The health document: version, uptime and a live database probe.
    pub async fn health(&self) -> Health {
        let database = self.db.probe(DB_PROBE_DEADLINE).await;
        Health {
            status: if database.ok {
                HealthStatus::Ok
            } else {
                HealthStatus::Degraded
            },
            version: env!("CARGO_PKG_VERSION").to_owned(),
            uptime_s: self.started.elapsed().as_secs(),
            database,
            store: None,
            inference: None,
        }
    }
}

/// The context inside a server function; an error (not a panic) if the server forgot it.
pub fn server_context() -> Result<ServerContext, ServerFnError> {
    use_context::<ServerContext>()
        .ok_or_else(|| ServerFnError::ServerError("server context is missing".into()))
}
