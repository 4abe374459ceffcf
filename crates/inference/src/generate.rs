//! One chat request through a model: checks, admission, the request to the mistral.rs engine
//! with its own response channel, and the stream of text pieces back, ending with usage.
//!
//! Generation always streams from the engine, so time to first token is measured the same way
//! for streaming and non-streaming clients. Dropping a [`Generation`] (a client that went
//! away) drops the engine's response channel, and mistral.rs cancels the sequence at its next
//! token.

use std::time::Duration;

use serde_json::Value;
use tokio::sync::mpsc;
use tokio::time::Instant;

use mistralrs::core::{Constraint, NormalRequest, Request, Response, SamplingParams, StopTokens};
use mistralrs::{RequestLike, TextMessageRole, TextMessages};

use crate::error::InferenceError;
use crate::host::Host;
use crate::types::{ChatMessage, ChatRequest, Finished, Piece, Usage};

/// An answer being generated. Drop it to cancel.
#[derive(Debug)]
pub struct Generation {
    /// `chatcmpl-…`, unique per request.
    pub id: String,
    pub model: String,
    /// Unix seconds.
    pub created: i64,
    rx: mpsc::Receiver<Result<Piece, InferenceError>>,
}

impl Generation {
    /// The next piece; `None` after [`Piece::Done`] or an error.
    pub async fn next(&mut self) -> Option<Result<Piece, InferenceError>> {
        self.rx.recv().await
    }

    /// The whole answer.
    pub async fn collect(mut self) -> Result<(String, Finished), InferenceError> {
        let mut text = String::new();
        while let Some(piece) = self.next().await {
            match piece? {
                Piece::Text(t) => text.push_str(&t),
                Piece::Done(finished) => return Ok((text, finished)),
            }
        }
        Err(InferenceError::Engine(
            "the engine stopped without finishing".into(),
        ))
    }
}

impl Host {
    /// How many tokens `messages` make as a prompt for `model` (its chat template applied),
    /// as [`Host::chat`] counts them against `inference_max_prompt_tokens`.
    pub async fn prompt_tokens(
        &self,
        model: Option<&str>,
        messages: &[ChatMessage],
    ) -> Result<usize, InferenceError> {
        let loaded = self.model(model)?;
        Ok(tokenized(&loaded, text_messages(messages)?).await?.len())
    }

    /// Starts generating. Refusals come back before any work is queued: no model, an unknown
    /// model, `max_tokens` over the cap, a prompt over the limit, a full queue.
    pub async fn chat(&self, request: ChatRequest) -> Result<Generation, InferenceError> {
        let limits = *self.limits();
        let loaded = self.model(request.model.as_deref())?;
        if request.messages.is_empty() {
            return Err(InferenceError::BadRequest(
                "messages must hold at least one message".into(),
            ));
        }
        let max_tokens = match request.max_tokens {
            Some(0) => {
                return Err(InferenceError::BadRequest(
                    "max_tokens must be at least 1".into(),
                ));
            }
            Some(asked) if asked > limits.max_tokens => {
                return Err(InferenceError::TooManyTokens {
                    asked,
                    limit: limits.max_tokens,
                });
            }
            Some(asked) => asked,
            None => limits.max_tokens,
        };
        let messages = text_messages(&request.messages)?;
        let deadline = Instant::now() + limits.deadline;

        let prompt = tokenized(&loaded, messages.clone()).await?;
        if prompt.len() > limits.max_prompt_tokens {
            return Err(InferenceError::PromptTooLong {
                tokens: prompt.len(),
                limit: limits.max_prompt_tokens,
            });
        }
        let constraint = match &request.json_schema {
            Some(schema) => Constraint::JsonSchema(compact_json(schema)?),
            None => Constraint::None,
        };

        let ticket = self.inner.admission.enter(deadline).await?;

        let mut sampling = SamplingParams::deterministic();
        sampling.max_len = Some(max_tokens);
        if request.temperature.is_some_and(|t| t > 0.0) {
            sampling.temperature = request.temperature;
            sampling.top_k = None;
            sampling.top_p = request.top_p;
        }
        if !request.stop.is_empty() {
            sampling.stop_toks = Some(StopTokens::Seqs(request.stop.clone()));
        }
        let (engine_tx, mut engine_rx) = mpsc::channel(64);
        let mut messages = messages;
        let engine_request = Request::Normal(Box::new(NormalRequest {
            messages: messages.take_messages(),
            sampling_params: sampling,
            response: engine_tx,
            return_logprobs: false,
            is_streaming: true,
            id: 0,
            constraint,
            suffix: None,
            tools: None,
            tool_choice: None,
            logits_processors: None,
            return_raw_logits: false,
            web_search_options: None,
            model_id: None,
            truncate_sequence: false,
        }));
        let sender = loaded
            .model
            .inner()
            .get_sender(None)
            .map_err(|e| InferenceError::Engine(e.to_string()))?;
        let sent = Instant::now();
        sender
            .send(engine_request)
            .await
            .map_err(|_| InferenceError::Engine("the engine has stopped".into()))?;

        let (tx, rx) = mpsc::channel(64);
        let json_constrained = request.json_schema.is_some();
        let prompt_tokens = prompt.len();
        let id = format!("chatcmpl-{}", uuid::Uuid::now_v7().simple());
        let model_id = loaded.spec.id.clone();
        let usage_out = self.inner.usage.clone();
        let queue_wait = ticket.waited;
        let forward_model = model_id.clone();
        tokio::spawn(async move {
            // Holding the ticket holds the slot until the answer ends or the client leaves; it
            // is released before the last piece goes out, so a caller that has the whole
            // answer never sees its slot still taken.
            let mut ticket = Some(ticket);
            let mut first: Option<Instant> = None;
            let mut pieces = 0usize;
            // With a JSON schema: the answer so far, to stop as soon as it is complete.
            let mut answer = String::new();
            let finish = |reason: &str,
                          engine: Option<&mistralrs::core::Usage>,
                          pieces,
                          first: Option<Instant>| {
                let usage = measure(
                    &forward_model,
                    engine,
                    prompt_tokens,
                    pieces,
                    queue_wait,
                    sent,
                    first,
                );
                let _ = usage_out.send(usage.clone());
                Ok(Piece::Done(Finished {
                    finish_reason: reason.to_owned(),
                    usage,
                }))
            };
            loop {
                let response = tokio::select! {
                    r = engine_rx.recv() => r,
                    () = tx.closed() => return, // the client left: dropping engine_rx cancels
                    () = tokio::time::sleep_until(deadline) => {
                        ticket.take();
                        let _ = tx.send(Err(InferenceError::Deadline(limits.deadline))).await;
                        return;
                    }
                };
                let Some(response) = response else {
                    // mistral.rs ends a sequence without a final chunk when its last token is
                    // an incomplete UTF-8 sequence (a cut at max_tokens); the answer is over.
                    let reason = if pieces + 1 >= max_tokens {
                        "length"
                    } else {
                        "stop"
                    };
                    ticket.take();
                    let _ = tx.send(finish(reason, None, pieces + 1, first)).await;
                    return;
                };
                match response {
                    Response::Chunk(chunk) => {
                        let choice = chunk.choices.into_iter().next();
                        let (text, finish_reason) = match choice {
                            Some(c) => (c.delta.content.unwrap_or_default(), c.finish_reason),
                            None => (String::new(), None),
                        };
                        if !text.is_empty() {
                            first.get_or_insert_with(Instant::now);
                            pieces += 1;
                            if json_constrained {
                                answer.push_str(&text);
                            }
                            if tx.send(Ok(Piece::Text(text))).await.is_err() {
                                return;
                            }
                        }
                        if let Some(reason) = finish_reason {
                            ticket.take();
                            let _ = tx
                                .send(finish(&reason, chunk.usage.as_ref(), pieces, first))
                                .await;
                            return;
                        }
                        // Complete JSON is the whole answer. (mistral.rs's grammar then only
                        // allows llguidance's end token, which is not every model's stop
                        // token: without this a constrained answer could run to max_tokens.)
                        if json_constrained && is_complete_json(&answer) {
                            ticket.take();
                            let _ = tx.send(finish("stop", None, pieces, first)).await;
                            return; // dropping engine_rx cancels the sequence
                        }
                    }
                    Response::ValidationError(e) => {
                        let _ = tx
                            .send(Err(InferenceError::BadRequest(e.to_string())))
                            .await;
                        return;
                    }
                    Response::InternalError(e) => {
                        tracing::error!(error = %e, "inference engine error");
                        let _ = tx.send(Err(InferenceError::Engine(e.to_string()))).await;
                        return;
                    }
                    Response::ModelError(e, _) => {
                        tracing::error!(error = %e, "model error");
                        let _ = tx.send(Err(InferenceError::Engine(e))).await;
                        return;
                    }
                    _ => tracing::warn!("unexpected engine response to a chat request"),
                }
            }
        });
        Ok(Generation {
            id,
            model: model_id,
            created: chrono::Utc::now().timestamp(),
            rx,
        })
    }
}

/// The prompt's tokens, the chat template applied. Tokenized on a task of its own: the engine
/// answers on a channel it expects to be read, and its thread panics when the asker went away
/// meanwhile (a client that disconnected, an answer stopped); the task always reads it.
async fn tokenized(
    loaded: &std::sync::Arc<crate::host::Loaded>,
    messages: TextMessages,
) -> Result<Vec<u32>, InferenceError> {
    let loaded = loaded.clone();
    let failed =
        |e: &dyn std::fmt::Display| InferenceError::Engine(format!("tokenizing the prompt: {e}"));
    tokio::spawn(async move {
        loaded
            .model
            .tokenize(either::Either::Left(messages), None, true, true, None)
            .await
    })
    .await
    .map_err(|e| failed(&e))?
    .map_err(|e| failed(&e))
}

fn text_messages(messages: &[ChatMessage]) -> Result<TextMessages, InferenceError> {
    let mut out = TextMessages::new();
    for (i, m) in messages.iter().enumerate() {
        let role = match m.role.as_str() {
            "system" | "developer" => TextMessageRole::System,
            "user" => TextMessageRole::User,
            "assistant" => TextMessageRole::Assistant,
            "tool" => TextMessageRole::Tool,
            other => {
                return Err(InferenceError::BadRequest(format!(
                    "messages[{i}].role '{other}' is not one of system, user, assistant, tool"
                )));
            }
        };
        out = out.add_message(role, &m.content);
    }
    Ok(out)
}

/// The schema with JSON whitespace turned off: the answer is compact JSON, and a model cannot
/// wander in whitespace until it runs out of tokens.
fn compact_json(schema: &Value) -> Result<Value, InferenceError> {
    let Value::Object(map) = schema else {
        return Err(InferenceError::BadRequest(
            "a JSON schema must be an object".into(),
        ));
    };
    let mut map = map.clone();
    let guidance = map
        .entry("x-guidance")
        .or_insert_with(|| Value::Object(Default::default()));
    if let Value::Object(g) = guidance {
        g.entry("whitespace_flexible").or_insert(Value::Bool(false));
    }
    Ok(Value::Object(map))
}

/// Whether `text` is one whole JSON value (checked only when it could have just ended).
fn is_complete_json(text: &str) -> bool {
    let end = text.trim_end();
    end.ends_with(['}', ']', '"']) && serde_json::from_str::<serde::de::IgnoredAny>(end).is_ok()
}

fn measure(
    model: &str,
    engine: Option<&mistralrs::core::Usage>,
    prompt_tokens: usize,
    pieces: usize,
    queue_wait: Duration,
    sent: Instant,
    first: Option<Instant>,
) -> Usage {
    let now = Instant::now();
    let completion_tokens = engine.map_or(pieces, |u| u.completion_tokens);
    let ttft = first.map_or(now - sent, |f| f - sent);
    let decode_time = first.map_or(Duration::ZERO, |f| now - f).as_secs_f64();
    let decode_tok_s = if decode_time > 0.0 && completion_tokens > 1 {
        (completion_tokens - 1) as f64 / decode_time
    } else {
        0.0
    };
    let prompt_tokens = engine.map_or(prompt_tokens, |u| u.prompt_tokens);
    // mistral.rs reports no prompt speed for a one-token answer (the sequence ends in its
    // prompt step): then it is the prompt's tokens over the time to the first token.
    let prompt_tok_s = match engine.map_or(0.0, |u| f64::from(u.avg_prompt_tok_per_sec)) {
        reported if reported > 0.0 => reported,
        _ if ttft > Duration::ZERO => prompt_tokens as f64 / ttft.as_secs_f64(),
        _ => 0.0,
    };
    Usage {
        model: model.to_owned(),
        prompt_tokens,
        completion_tokens,
        queue_wait_ms: queue_wait.as_secs_f64() * 1e3,
        ttft_ms: ttft.as_secs_f64() * 1e3,
        prompt_tok_s,
        decode_tok_s,
        total_ms: (queue_wait + (now - sent)).as_secs_f64() * 1e3,
    }
}
