//! Switchyard's identity and access: who is knocking, and what they may do.
//!
//! # Layout
//!
//! - [`admin`]: admin operations with their input checks, shared by the API and the pages.
//! - [`api_keys`]: `sy_` keys for machines: scopes, project, hashed secret, revocation, and
//!   the per-key rate and concurrency [`api_keys::Limiter`].
//! - [`password`]: argon2id password hashes (PHC strings), checked in constant time.
//! - [`token`]: short-lived JWT access tokens: one algorithm (HS256), a secret of at least
//!   32 bytes, and an explicit validation that requires `exp`, `iat`, `iss`, `aud`, `sub`.
//! - [`secret`]: the signing secret: configured, or generated into the data dir once.
//! - [`projects`]: projects, their members, and what a caller sees ([`projects::Visibility`]).
//! - [`role`]: roles and permissions, and the one table that says which role may do what.
//! - [`users`]: accounts in SQL: create, find, log in, change password, disable, list.
//! - [`refresh`]: rotating refresh tokens in families; presenting a used one revokes the
//!   whole family.
//! - [`audit`]: the append-only, hash-chained audit log and its verification.
//! - [`cookies`]: reading a cookie out of request headers.
//! - [`kill`]: kill switches: capabilities an admin turned off, checked on every call.
//! - [`random`]: random identifiers and secrets from the operating system.

// `on_pool!`: one query text on whichever pool the database holds.
#[macro_use]
extern crate switchyard_db;

pub mod admin;
pub mod api_keys;
pub mod audit;
pub mod cookies;
pub mod kill;
pub mod password;
pub mod projects;
pub mod random;
pub mod refresh;
pub mod role;
pub mod secret;
pub mod token;
pub mod users;

pub use role::{Permission, Role};
pub use token::{Claims, TokenError, TokenKeys};
pub use users::{User, UserError};

pub(crate) fn now_ms() -> i64 {
    chrono::Utc::now().timestamp_millis()
}
