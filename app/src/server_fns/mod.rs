//! Server functions, one domain per module. Each body runs on the server and reads
//! [`crate::context::ServerContext`] and the caller ([`access`]); the browser half is a
//! typed HTTP call.

#[cfg(feature = "ssr")]
pub mod access;
pub mod account;
pub mod admin;
pub mod runs;
pub mod system;
