//! Request and response bodies of the OpenAI-compatible API. Requests accept the fields
//! OpenAI clients send and ignore the ones Switchyard has no use for (`user`, `seed`, …);
//! fields that would change the answer and are not supported (`n` > 1, tools) are refused.

use serde::{Deserialize, Serialize};
use serde_json::Value;

/// `POST /v1/chat/completions`.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub struct ChatCompletionRequest {
    /// Default: the server's default model.
    #[serde(default)]
    pub model: Option<String>,
    /// At least one.
    #[schema(min_items = 1)]
    pub messages: Vec<InMessage>,
    #[serde(default, deserialize_with = "switchyard_protocol::whole::option")]
    pub max_tokens: Option<usize>,
    /// The newer name of `max_tokens`; wins when both are given.
    #[serde(default, deserialize_with = "switchyard_protocol::whole::option")]
    pub max_completion_tokens: Option<usize>,
    #[serde(default)]
    pub temperature: Option<f64>,
    #[serde(default)]
    pub top_p: Option<f64>,
    #[serde(default)]
    pub stop: Option<Stop>,
    #[serde(default)]
    pub stream: bool,
    #[serde(default)]
    pub stream_options: Option<StreamOptions>,
    #[serde(default)]
    pub response_format: Option<ResponseFormat>,
    /// Only 1 (one answer per request).
    #[serde(default, deserialize_with = "switchyard_protocol::whole::option")]
    #[schema(minimum = 1, maximum = 1)]
    pub n: Option<u32>,
    /// Not supported: absent or empty (use `response_format` with a JSON schema).
    #[serde(default)]
    #[schema(value_type = Option<Vec<Object>>, max_items = 0)]
    pub tools: Option<Vec<Value>>,
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub struct InMessage {
    pub role: String,
    #[serde(default)]
    pub content: Option<Content>,
}

/// A message's content: a string, or parts of which only text is understood.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(untagged)]
pub enum Content {
    Text(String),
    Parts(Vec<ContentPart>),
}

/// One part of a message's content; only `{"type": "text", "text": …}` is understood.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub struct ContentPart {
    #[serde(rename = "type")]
    #[schema(value_type = TextPartKind)]
    pub kind: String,
    #[serde(default)]
    #[schema(required = true, nullable = false)]
    pub text: Option<String>,
}

/// The one content part type understood: `text`.
#[derive(utoipa::ToSchema)]
#[schema(rename_all = "snake_case")]
#[allow(dead_code)] // a schema for the API document, never built
pub enum TextPartKind {
    Text,
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(untagged)]
pub enum Stop {
    One(String),
    Many(Vec<String>),
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub struct StreamOptions {
    #[serde(default)]
    pub include_usage: bool,
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum ResponseFormat {
    Text,
    JsonObject,
    JsonSchema { json_schema: JsonSchemaFormat },
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub struct JsonSchemaFormat {
    #[serde(default)]
    pub name: Option<String>,
    /// The JSON schema the answer must satisfy. Required.
    #[serde(default)]
    #[schema(value_type = Object, required = true)]
    pub schema: Option<Value>,
    #[serde(default)]
    pub strict: Option<bool>,
}

/// Token counts, as OpenAI reports them.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct OutUsage {
    pub prompt_tokens: usize,
    pub completion_tokens: usize,
    pub total_tokens: usize,
}

impl From<&switchyard_inference::Usage> for OutUsage {
    fn from(u: &switchyard_inference::Usage) -> Self {
        Self {
            prompt_tokens: u.prompt_tokens,
            completion_tokens: u.completion_tokens,
            total_tokens: u.prompt_tokens + u.completion_tokens,
        }
    }
}

/// Switchyard's measurements of the request (an extension; OpenAI clients ignore it).
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Timings {
    pub queue_wait_ms: f64,
    pub ttft_ms: f64,
    pub prompt_tok_s: f64,
    pub decode_tok_s: f64,
    pub total_ms: f64,
}

impl From<&switchyard_inference::Usage> for Timings {
    fn from(u: &switchyard_inference::Usage) -> Self {
        Self {
            queue_wait_ms: u.queue_wait_ms,
            ttft_ms: u.ttft_ms,
            prompt_tok_s: u.prompt_tok_s,
            decode_tok_s: u.decode_tok_s,
            total_ms: u.total_ms,
        }
    }
}

/// A whole answer.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ChatCompletion {
    pub id: String,
    pub object: &'static str,
    pub created: i64,
    pub model: String,
    pub choices: Vec<Choice>,
    pub usage: OutUsage,
    pub timings: Timings,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Choice {
    pub index: u32,
    pub message: OutMessage,
    pub finish_reason: String,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct OutMessage {
    pub role: &'static str,
    pub content: String,
}

/// One piece of a streamed answer.
#[derive(Debug, Serialize)]
pub struct ChatChunk<'a> {
    pub id: &'a str,
    pub object: &'static str,
    pub created: i64,
    pub model: &'a str,
    pub choices: Vec<ChunkChoice<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub usage: Option<OutUsage>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub timings: Option<Timings>,
}

#[derive(Debug, Serialize)]
pub struct ChunkChoice<'a> {
    pub index: u32,
    pub delta: Delta<'a>,
    pub finish_reason: Option<&'a str>,
}

#[derive(Debug, Serialize, Default)]
pub struct Delta<'a> {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub role: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub content: Option<&'a str>,
}

/// `GET /v1/models`.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ModelList {
    pub object: &'static str,
    pub data: Vec<ModelEntry>,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ModelEntry {
    pub id: String,
    pub object: &'static str,
    pub created: i64,
    pub owned_by: &'static str,
}

/// The error body of `/v1` routes, as OpenAI clients expect it (for the API document; the
/// server writes it from [`super::error::OpenAiError`]).
#[derive(utoipa::ToSchema)]
#[allow(dead_code)] // a schema for the API document, never built
pub struct OpenAiErrorBody {
    pub error: OpenAiErrorDetail,
}

/// What went wrong.
#[derive(utoipa::ToSchema)]
#[allow(dead_code)] // a schema for the API document, never built
pub struct OpenAiErrorDetail {
    pub message: String,
    /// `invalid_request_error`, `authentication_error`, `permission_error`, `not_found_error`,
    /// `rate_limit_error` or `server_error`.
    #[schema(rename = "type")]
    pub kind: String,
    /// The request field at fault, when one is.
    pub param: Option<String>,
    pub code: Option<String>,
}
