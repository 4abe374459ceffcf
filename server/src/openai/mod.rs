//! `/v1`: the OpenAI-compatible API over the model host, so existing OpenAI clients work
//! against Switchyard unchanged (point them at `http://HOST:3000/v1`).
//!
//! - [`chat`]: `POST /v1/chat/completions`, whole answers or SSE streams ending in
//!   `data: [DONE]`, with `response_format` JSON schemas.
//! - [`models`]: `GET /v1/models`.
//! - [`error`]: errors in OpenAI's shape, `{"error": {"message", "type", "param", "code"}}`.
//! - [`types`]: the request and response bodies.
//!
//! Callers need the `Infer` permission (API key scope `infer`) when sign-in is required, and
//! the `inference` kill switch stops both routes with 503.

pub mod chat;
pub mod error;
pub mod models;
pub mod types;
