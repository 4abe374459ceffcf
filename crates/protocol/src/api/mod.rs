//! The REST API's request bodies and answers (`/api/v1`), shared by the server that answers
//! and the CLI that asks. With feature `openapi` each derives its schema for the API document.
//!
//! - [`runs`]: submitting, listing, reading and steering runs; approvals.
//! - [`admin`]: accounts, projects, API keys and kill switches.
//! - [`auth`]: signing in, tokens, one's own password.
//! - [`events`]: what external agents report, and their log lines read back.
//! - [`live`]: the messages of the live WebSocket.
//! - [`workflows`]: workflow templates and the runs started from them.
//! - [`error`]: the error body every route answers with.

pub mod admin;
pub mod auth;
pub mod error;
pub mod events;
pub mod live;
pub mod runs;
pub mod workflows;

/// "Not blank" as the API document's patterns say it (ECMA-262, as JSON Schema reads it): a
/// character that is not whitespace as Rust's `str::trim` sees it. Fields that must not be
/// blank use it, and the server checks them with `trim().is_empty()`.
pub const NOT_BLANK_PATTERN: &str =
    "[^\\t-\\r \\x85\\xa0\\u1680\\u2000-\\u200a\\u2028\\u2029\\u202f\\u205f\\u3000]";
