//! The orchestrator's `llm` tool: one chat request to a hosted model from a step.
//!
//! ```json
//! {"key": "summarise", "agent": "default", "tool": "llm", "depends_on": ["fetch"],
//!  "input": {"prompt": "Summarise: {{steps.fetch.output.body}}", "max_tokens": 200,
//!            "json_schema": {"type": "object", "properties": {"summary": {"type": "string"}}}}}
//! ```
//!
//! The prompt is a template: the engine fills `{{steps.KEY.output.PATH}}` from earlier steps
//! before the tool runs. The output is `{"text", "json"?, "model", "finish_reason", "usage"}`;
//! `usage` (tokens, queue wait, time to first token, tokens/s) is stored with the step.
//! A full queue, a model still loading or a deadline is retried; a bad request is not.

use serde_json::{Value, json};
use switchyard_orchestrator::catalog::ToolSpec;
use switchyard_orchestrator::tools::{Tool, ToolContext, ToolError, ToolFuture};

use switchyard_inference::Host;
use switchyard_inference::InferenceError;
use switchyard_inference::{ChatMessage, ChatRequest};

/// The tool, bound to a host.
#[derive(Debug, Clone)]
pub struct LlmTool {
    host: Host,
}

impl LlmTool {
    pub fn new(host: Host) -> Self {
        Self { host }
    }
}

/// The tool's name in plans.
pub const NAME: &str = "llm";

impl Tool for LlmTool {
    fn spec(&self) -> ToolSpec {
        ToolSpec {
            name: NAME.into(),
            description: "Asks a hosted language model; `prompt` may use templates, \
                          `json_schema` constrains the answer to JSON."
                .into(),
            input_schema: json!({
                "type": "object",
                "required": ["prompt"],
                "properties": {
                    "prompt": {"type": "string", "minLength": 1},
                    "system": {"type": "string"},
                    "model": {"type": "string"},
                    "max_tokens": {"type": "integer", "minimum": 1},
                    "temperature": {"type": "number", "minimum": 0, "maximum": 2},
                    "json_schema": {"type": "object"}
                },
                "additionalProperties": false
            }),
            default_risk: 0.0,
        }
    }

    fn run<'a>(&'a self, ctx: &'a ToolContext, input: Value) -> ToolFuture<'a> {
        Box::pin(async move {
            let mut messages = Vec::new();
            if let Some(system) = input["system"].as_str() {
                messages.push(ChatMessage::new("system", system));
            }
            let prompt = input["prompt"]
                .as_str()
                .ok_or_else(|| ToolError::permanent("input.prompt must be a string"))?;
            messages.push(ChatMessage::new("user", prompt));
            let request = ChatRequest {
                model: input["model"].as_str().map(str::to_owned),
                messages,
                max_tokens: input["max_tokens"]
                    .as_u64()
                    .map(|n| usize::try_from(n).unwrap_or(usize::MAX)),
                temperature: input["temperature"].as_f64(),
                json_schema: input.get("json_schema").cloned(),
                ..ChatRequest::default()
            };
            let answer = async {
                let generation = self.host.chat(request).await?;
                generation.collect().await
            };
            let (text, finished) = tokio::select! {
                answer = answer => answer.map_err(tool_error)?,
                // Dropping the generation cancels it.
                () = ctx.cancel.cancelled() => return Err(ToolError::Cancelled),
            };
            let mut output = json!({
                "text": text,
                "model": finished.usage.model,
                "finish_reason": finished.finish_reason,
                "usage": finished.usage,
            });
            if input.get("json_schema").is_some() {
                let parsed: Value = serde_json::from_str(&text).map_err(|e| {
                    ToolError::retryable(format!(
                        "the model's answer is not complete JSON ({e}); finish_reason {}",
                        output["finish_reason"]
                    ))
                })?;
                output["json"] = parsed;
            }
            Ok(output)
        })
    }
}

fn tool_error(e: InferenceError) -> ToolError {
    match e {
        InferenceError::QueueFull { retry_after, .. } => ToolError::Retryable {
            message: e.to_string(),
            retry_after: Some(retry_after),
        },
        e if e.is_transient() => ToolError::retryable(e.to_string()),
        e => ToolError::permanent(e.to_string()),
    }
}
