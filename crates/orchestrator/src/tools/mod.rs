//! Tools: what steps run.
//!
//! A [`Tool`] declares its [`ToolSpec`] (name, input schema, default risk) and runs one attempt
//! with a [`ToolContext`]. It answers with output JSON or a [`ToolError`] that tells the engine
//! what to do next: retry (after a wait it may name), give up, or stop because the run was
//! cancelled. The engine validates input against the schema before calling `run`, so a tool
//! may rely on the shape its schema promises.
//!
//! Built-ins: [`builtin::Noop`], [`builtin::Sleep`], [`builtin::Fail`] (tests and demos),
//! [`builtin::Approval`] (a pure gate), [`http::Http`], and [`subrun::Subrun`] (a child run;
//! it needs the engine itself, so it is bound after the engine starts). The `llm` tool
//! arrives with the inference crate and plugs in through the same trait.

pub mod builtin;
pub mod context;
pub mod http;
pub mod subrun;

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;

use serde_json::Value;

pub use context::ToolContext;

use crate::catalog::ToolSpec;

/// Every built-in tool, the `http` one configured with `http`.
pub fn builtins(http: http::HttpConfig) -> Vec<Arc<dyn Tool>> {
    vec![
        Arc::new(builtin::Noop),
        Arc::new(builtin::Sleep),
        Arc::new(builtin::Fail),
        Arc::new(builtin::Approval),
        Arc::new(http::Http::new(http)),
        Arc::new(subrun::Subrun),
    ]
}

/// The future a tool's attempt returns.
pub type ToolFuture<'a> = Pin<Box<dyn Future<Output = Result<Value, ToolError>> + Send + 'a>>;

/// Something a step can run.
pub trait Tool: Send + Sync {
    fn spec(&self) -> ToolSpec;

    /// One attempt. Must return promptly with [`ToolError::Cancelled`] once
    /// `ctx.cancel` fires, and should pass `ctx.idempotency_key` on to anything with side
    /// effects so that a repeated attempt does not repeat them.
    fn run<'a>(&'a self, ctx: &'a ToolContext, input: Value) -> ToolFuture<'a>;
}

/// Why an attempt produced no output: a typed decision, not a string to parse.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ToolError {
    /// Worth trying again: a timeout, a 503, a dropped connection. `retry_after` overrides
    /// the step's backoff when the other side said how long to wait.
    #[error("{message}")]
    Retryable {
        message: String,
        retry_after: Option<Duration>,
    },
    /// Trying again would fail the same way: bad input, refused by policy, 404.
    #[error("{message}")]
    Permanent { message: String },
    /// The run was cancelled while the attempt ran.
    #[error("cancelled")]
    Cancelled,
}

impl ToolError {
    pub fn retryable(message: impl Into<String>) -> Self {
        Self::Retryable {
            message: message.into(),
            retry_after: None,
        }
    }

    pub fn permanent(message: impl Into<String>) -> Self {
        Self::Permanent {
            message: message.into(),
        }
    }

    /// Whether the engine should try again (attempts permitting).
    pub fn is_retryable(&self) -> bool {
        matches!(self, Self::Retryable { .. })
    }
}
