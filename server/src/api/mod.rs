//! `/api/v1`: the versioned REST API.

pub mod admin;
pub mod auth;
pub mod datasets;
pub mod error;
pub mod health;
pub mod ingest;
pub mod json;
pub mod live;
pub mod notifications;
pub mod openapi;
pub mod principal;
pub mod query;
pub mod runs;
pub mod search;
pub mod stream;
pub mod workflows;
