//! Server functions, one domain per module. Each body runs on the server and calls a use case
//! of the [`switchyard_service::Service`] with the caller ([`access`]); the browser half is a
//! typed HTTP call.

#[cfg(feature = "ssr")]
pub mod access;
pub mod account;
pub mod admin;
pub mod approvals;
pub mod chat;
pub mod datasets;
pub mod notifications;
pub mod runs;
pub mod system;
pub mod workflows;
