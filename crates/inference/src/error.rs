//! Why a request to the host produced no answer. Each variant names what the client can do.

use std::time::Duration;

/// The config key a person sets to give Switchyard a model (named in errors when none is).
pub const MODELS_KEY: &str = "models";

#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum InferenceError {
    /// No model is configured at all.
    #[error(
        "no model is configured: set `{MODELS_KEY}` in switchyard.toml (or start with `switchyard serve --model PATH`)"
    )]
    NoModel,
    /// The request named a model the host does not have.
    #[error("model '{0}' not found")]
    UnknownModel(String),
    /// The model is still loading, or failed to load.
    #[error("model '{id}' is not ready: {state}")]
    NotReady { id: String, state: String },
    /// Too many requests wait already; try again after `retry_after`.
    #[error("the inference queue is full ({queue} waiting, inference_queue); retry after {}s", retry_after.as_secs())]
    QueueFull { queue: usize, retry_after: Duration },
    /// The prompt is longer than `inference_max_prompt_tokens`.
    #[error("the prompt has {tokens} tokens; the limit is {limit} (inference_max_prompt_tokens)")]
    PromptTooLong { tokens: usize, limit: usize },
    /// `max_tokens` is above `inference_max_tokens`.
    #[error("max_tokens {asked} is above the limit of {limit} (inference_max_tokens)")]
    TooManyTokens { asked: usize, limit: usize },
    /// The request itself is wrong (an empty conversation, a bad schema …).
    #[error("{0}")]
    BadRequest(String),
    /// The request ran past `inference_deadline_s`.
    #[error("the request ran past its deadline of {}s (inference_deadline_s)", .0.as_secs())]
    Deadline(Duration),
    /// The engine failed; the cause is logged.
    #[error("the model failed: {0}")]
    Engine(String),
}

impl InferenceError {
    /// Whether trying the same request later may succeed.
    pub fn is_transient(&self) -> bool {
        matches!(
            self,
            Self::QueueFull { .. } | Self::NotReady { .. } | Self::Deadline(_) | Self::Engine(_)
        )
    }
}
