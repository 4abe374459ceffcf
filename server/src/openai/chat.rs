//! `POST /v1/chat/completions`.

use std::convert::Infallible;

use axum::Json;
use axum::extract::State;
use axum::extract::rejection::JsonRejection;
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use serde_json::json;
use switchyard_auth::Permission;
use switchyard_auth::kill::{Capability, KillSwitches};
use switchyard_inference::{ChatMessage, ChatRequest, Generation, Host, Piece};
use tokio::sync::mpsc;

use super::error::OpenAiError;
use super::types::{
    ChatChunk, ChatCompletion, ChatCompletionRequest, Choice, ChunkChoice, Content, Delta,
    OutMessage, OutUsage, ResponseFormat, Stop, Timings,
};
use crate::api::principal::{Caller, Principal, Refusal};

/// Checks the caller and the kill switch; shared by both `/v1` routes.
pub async fn admit(
    who: Result<Caller, Refusal>,
    switches: &KillSwitches,
) -> Result<Principal, OpenAiError> {
    let Caller(who) = who?;
    who.require(Permission::Infer).await?;
    crate::api::error::require_on(switches, Capability::Inference).await?;
    Ok(who)
}

/// A chat completion from a local model, whole or streamed (`"stream": true`: server-sent
/// events, one `chat.completion.chunk` each, then `data: [DONE]`).
#[utoipa::path(post, path = "/v1/chat/completions", tag = "openai",
    request_body = ChatCompletionRequest,
    responses(
        (status = 200, description = "The answer; with `stream`, server-sent events of `chat.completion.chunk` objects",
            content((ChatCompletion = "application/json"), (String = "text/event-stream"))),
        (status = 400, description = "A request this server cannot answer as asked (the field is in `param`)", body = super::types::OpenAiErrorBody),
        (status = 401, description = "No valid credentials (with `auth_required`)", body = super::types::OpenAiErrorBody),
        (status = 403, description = "The caller may not use models", body = super::types::OpenAiErrorBody),
        (status = 404, description = "No such model", body = super::types::OpenAiErrorBody),
        (status = 429, description = "Over the caller's limits; `Retry-After` says when to try again", body = super::types::OpenAiErrorBody),
        (status = 503, description = "No model configured (set `models`), the model is still loading, its queue is full, or an admin switched inference off", body = super::types::OpenAiErrorBody)
    ))]
pub async fn completions(
    who: Result<Caller, Refusal>,
    State(host): State<Host>,
    State(switches): State<KillSwitches>,
    body: Result<Json<ChatCompletionRequest>, JsonRejection>,
) -> Result<Response, OpenAiError> {
    admit(who, &switches).await?;
    let Json(body) = body.map_err(|e| OpenAiError::invalid(None, e.body_text()))?;
    let stream = body.stream;
    let include_usage = body
        .stream_options
        .as_ref()
        .is_some_and(|o| o.include_usage);
    let request = chat_request(body)?;
    let generation = host.chat(request).await?;
    if stream {
        Ok(stream_answer(generation, include_usage).into_response())
    } else {
        Ok(whole_answer(generation).await?.into_response())
    }
}

/// The OpenAI request as the host's; refuses what would silently change the answer.
fn chat_request(body: ChatCompletionRequest) -> Result<ChatRequest, OpenAiError> {
    if body.n.is_some_and(|n| n != 1) {
        return Err(OpenAiError::invalid(Some("n"), "n must be 1"));
    }
    if body.tools.as_ref().is_some_and(|t| !t.is_empty()) {
        return Err(OpenAiError::invalid(
            Some("tools"),
            "tools are not supported; use response_format with a JSON schema",
        ));
    }
    if body.messages.is_empty() {
        return Err(OpenAiError::invalid(
            Some("messages"),
            "messages must hold at least one message",
        ));
    }
    let mut messages = Vec::with_capacity(body.messages.len());
    for (i, m) in body.messages.into_iter().enumerate() {
        let content = match m.content {
            None => String::new(),
            Some(Content::Text(text)) => text,
            Some(Content::Parts(parts)) => {
                let mut text = String::new();
                for (j, part) in parts.into_iter().enumerate() {
                    match (part.kind.as_str(), part.text) {
                        ("text", Some(t)) => text.push_str(&t),
                        (kind, _) => {
                            return Err(OpenAiError::invalid(
                                Some("messages"),
                                format!(
                                    "messages[{i}].content[{j}]: only text parts are supported, not '{kind}'"
                                ),
                            ));
                        }
                    }
                }
                text
            }
        };
        messages.push(ChatMessage {
            role: m.role,
            content,
        });
    }
    let json_schema = match body.response_format {
        None | Some(ResponseFormat::Text) => None,
        Some(ResponseFormat::JsonObject) => Some(json!({"type": "object"})),
        Some(ResponseFormat::JsonSchema { json_schema }) => match json_schema.schema {
            Some(schema) if schema.is_object() => Some(schema),
            _ => {
                return Err(OpenAiError::invalid(
                    Some("response_format"),
                    "response_format.json_schema.schema must be a JSON schema object",
                ));
            }
        },
    };
    let stop = match body.stop {
        None => Vec::new(),
        Some(Stop::One(s)) => vec![s],
        Some(Stop::Many(v)) => v,
    };
    Ok(ChatRequest {
        model: body.model,
        messages,
        max_tokens: body.max_completion_tokens.or(body.max_tokens),
        temperature: body.temperature,
        top_p: body.top_p,
        stop,
        json_schema,
    })
}

async fn whole_answer(generation: Generation) -> Result<Json<ChatCompletion>, OpenAiError> {
    let (id, model, created) = (
        generation.id.clone(),
        generation.model.clone(),
        generation.created,
    );
    let (text, finished) = generation.collect().await?;
    Ok(Json(ChatCompletion {
        id,
        object: "chat.completion",
        created,
        model,
        choices: vec![Choice {
            index: 0,
            message: OutMessage {
                role: "assistant",
                content: text,
            },
            finish_reason: finished.finish_reason,
        }],
        usage: OutUsage::from(&finished.usage),
        timings: Timings::from(&finished.usage),
    }))
}

/// Server-sent events: a role chunk, content chunks, a chunk with the finish reason, the
/// usage chunk if asked for, then `data: [DONE]`. An error mid-way is sent as an error object
/// and ends the stream. When the client goes away the generation is dropped, which cancels it.
fn stream_answer(
    mut generation: Generation,
    include_usage: bool,
) -> Sse<impl futures_util::Stream<Item = Result<Event, Infallible>>> {
    let (tx, mut rx) = mpsc::channel::<Event>(32);
    tokio::spawn(async move {
        let (id, model, created) = (
            generation.id.clone(),
            generation.model.clone(),
            generation.created,
        );
        let chunk = |delta: Delta, finish: Option<&str>| {
            let chunk = ChatChunk {
                id: &id,
                object: "chat.completion.chunk",
                created,
                model: &model,
                choices: vec![ChunkChoice {
                    index: 0,
                    delta,
                    finish_reason: finish,
                }],
                usage: None,
                timings: None,
            };
            Event::default().data(serde_json::to_string(&chunk).unwrap_or_default())
        };
        let role = Delta {
            role: Some("assistant"),
            content: Some(""),
        };
        if tx.send(chunk(role, None)).await.is_err() {
            return;
        }
        loop {
            let piece = tokio::select! {
                piece = generation.next() => piece,
                () = tx.closed() => return,
            };
            let event = match piece {
                Some(Ok(Piece::Text(text))) => chunk(
                    Delta {
                        role: None,
                        content: Some(&text),
                    },
                    None,
                ),
                Some(Ok(Piece::Done(finished))) => {
                    let end = chunk(Delta::default(), Some(&finished.finish_reason));
                    if tx.send(end).await.is_err() {
                        return;
                    }
                    if include_usage {
                        let usage = ChatChunk {
                            id: &id,
                            object: "chat.completion.chunk",
                            created,
                            model: &model,
                            choices: Vec::new(),
                            usage: Some(OutUsage::from(&finished.usage)),
                            timings: Some(Timings::from(&finished.usage)),
                        };
                        let data = serde_json::to_string(&usage).unwrap_or_default();
                        if tx.send(Event::default().data(data)).await.is_err() {
                            return;
                        }
                    }
                    let _ = tx.send(Event::default().data("[DONE]")).await;
                    return;
                }
                Some(Err(e)) => {
                    let error = OpenAiError::from(e).body();
                    let _ = tx.send(Event::default().data(error.to_string())).await;
                    return;
                }
                None => return,
            };
            if tx.send(event).await.is_err() {
                return;
            }
        }
    });
    let events = futures_util::stream::poll_fn(move |cx| rx.poll_recv(cx).map(|e| e.map(Ok)));
    Sse::new(events).keep_alive(KeepAlive::default())
}
