//! `/api/v1`: the versioned REST API.

pub mod error;
pub mod health;
pub mod openapi;
