//! What a caller sends the model host and what comes back: the request, its messages, the
//! pieces of the answer and the usage figures. The types of the host's whole request/response
//! surface, in one place; [`crate::generate`] does the work.

use serde::Serialize;
use serde_json::Value;

/// One message of a conversation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, serde::Deserialize)]
pub struct ChatMessage {
    /// `system`, `user`, `assistant` or `tool`.
    pub role: String,
    pub content: String,
}

impl ChatMessage {
    pub fn new(role: &str, content: impl Into<String>) -> Self {
        Self {
            role: role.to_owned(),
            content: content.into(),
        }
    }
}

/// What to generate.
#[derive(Debug, Clone, Default)]
pub struct ChatRequest {
    /// The model id; `None`: the default model.
    pub model: Option<String>,
    pub messages: Vec<ChatMessage>,
    /// At most this many tokens (default and cap: `inference_max_tokens`).
    pub max_tokens: Option<usize>,
    pub temperature: Option<f64>,
    pub top_p: Option<f64>,
    /// Sequences that end the answer (not included in it).
    pub stop: Vec<String>,
    /// Constrains the answer to JSON valid against this schema.
    pub json_schema: Option<Value>,
}

/// Measured for every request; published on the host's usage channel and returned to callers.
#[derive(Debug, Clone, PartialEq, Serialize, serde::Deserialize)]
pub struct Usage {
    pub model: String,
    pub prompt_tokens: usize,
    pub completion_tokens: usize,
    /// Waiting for a slot.
    pub queue_wait_ms: f64,
    /// From the request reaching the engine to the first piece of text.
    pub ttft_ms: f64,
    /// Prompt processing, as the engine measured it.
    pub prompt_tok_s: f64,
    /// Tokens after the first, per second of decoding.
    pub decode_tok_s: f64,
    pub total_ms: f64,
}

/// How an answer ended.
#[derive(Debug, Clone, PartialEq)]
pub struct Finished {
    /// `stop` (end of turn or a stop sequence), `length` (max_tokens) or another engine reason.
    pub finish_reason: String,
    pub usage: Usage,
}

/// A piece of the answer.
#[derive(Debug, Clone, PartialEq)]
pub enum Piece {
    Text(String),
    Done(Finished),
}
