//! The orchestrator panel's chat and task modes: conversations kept per person, and answers
//! the server writes with the local model, streamed to the tab that follows them, stopped on
//! request.
//!
//! - [`store`]: the tables.
//! - [`answers`]: answers being written in this process (follow, stop).
//! - [`tasks`]: task mode: a message is a goal, its answer the run it becomes.
//! - this file: the use cases: list, read, rename, delete, send, stop, follow.
//!
//! An answer belongs to the server, not to the request that asked for it: the request
//! returns at once with the answer's number, a task writes it, and a reload finds it still
//! being written (or written). The prompt is the conversation's history, the oldest turns
//! left out until it fits `inference_max_prompt_tokens`.

pub mod answers;
pub mod store;
pub mod tasks;

use switchyard_auth::Permission;
use switchyard_auth::kill::Capability;
use switchyard_inference::{ChatMessage, ChatRequest, Piece};
use switchyard_protocol::conversation::{
    AnswerFigures, AnswerProgress, AnswerStatus, ChatModel, ChatStarted, Conversation,
    ConversationMessage, ConversationSummary, MAX_TITLE_CHARS,
};
use switchyard_protocol::{ChatMode, MAX_PROMPT_CHARS, prompt_chars};
use tokio::sync::watch;
use tokio::time::Instant;

use crate::Service;
use crate::brief::clipped;
use crate::error::{ServiceError, require_on};
use crate::principal::Principal;

/// The most conversations listed.
pub const LISTED: i64 = 100;

/// A message to send.
#[derive(Debug, Clone, Default)]
pub struct ChatSend {
    /// `None`: a new conversation, titled after the message.
    pub conversation: Option<String>,
    pub text: String,
    /// For a new conversation: the model to talk to (`None`: the default).
    pub model: Option<String>,
}

fn db_error(e: sqlx::Error) -> ServiceError {
    ServiceError::internal(&e)
}

/// Whose conversations these are: people's, not API keys' (those talk to `/v1`).
fn owner(who: &Principal) -> Result<String, ServiceError> {
    who.recipient().ok_or_else(|| {
        ServiceError::invalid(
            "conversations belong to people: an API key talks to /v1/chat/completions",
        )
    })
}

impl Service {
    /// The models a new conversation may talk to: every configured one with its state (a
    /// model still loading is listed, and says so), the default first.
    pub async fn chat_models(&self, who: &Principal) -> Result<Vec<ChatModel>, ServiceError> {
        who.require(Permission::Infer).await?;
        let status = self.inference().status();
        let default = self.inference().default_model();
        let mut models: Vec<ChatModel> = status
            .models
            .into_iter()
            .map(|m| {
                let detail = match m.state.as_str() {
                    "ready" => String::new(),
                    "loading" => format!("loading ({}%)", m.progress_pct),
                    _ => format!("failed to load: {}", m.error.unwrap_or_default()),
                };
                ChatModel {
                    default: Some(m.id.as_str()) == default,
                    id: m.id,
                    state: m.state,
                    detail,
                }
            })
            .collect();
        models.sort_by_key(|m| !m.default);
        Ok(models)
    }

    /// The caller's conversations, most recently used first.
    pub async fn conversations(
        &self,
        who: &Principal,
    ) -> Result<Vec<ConversationSummary>, ServiceError> {
        let me = owner(who)?;
        store::list(self.db(), &me, LISTED).await.map_err(db_error)
    }

    /// The caller's conversation `id` with its messages; 404 for anyone else's.
    pub async fn conversation(
        &self,
        who: &Principal,
        id: &str,
    ) -> Result<Conversation, ServiceError> {
        let me = owner(who)?;
        let (title, model) = store::header(self.db(), &me, id)
            .await
            .map_err(db_error)?
            .ok_or_else(|| not_found(id))?;
        let mut messages = store::messages(self.db(), id).await.map_err(db_error)?;
        for message in &mut messages {
            self.settle_orphan(id, message).await?;
        }
        Ok(Conversation {
            id: id.to_owned(),
            title,
            model,
            messages,
        })
    }

    /// An answer recorded as being written that nobody writes any more (the server that
    /// wrote it stopped): failed, past the longest an answer may take.
    async fn settle_orphan(
        &self,
        id: &str,
        message: &mut ConversationMessage,
    ) -> Result<(), ServiceError> {
        let deadline_ms = self.inference().limits().deadline.as_millis() as i64;
        let orphan = message.status == AnswerStatus::Generating
            && !self.answers().writing(id, message.seq)
            && store::now_ms() - message.created_at_ms > deadline_ms + 5_000;
        if orphan {
            let error = "the server stopped before this answer was finished";
            let ended = store::Ended {
                content: &message.content,
                status: AnswerStatus::Failed,
                figures: None,
                error: Some(error),
                run_id: message.run_id.as_deref(),
            };
            store::finish(self.db(), id, message.seq, &ended)
                .await
                .map_err(db_error)?;
            message.status = AnswerStatus::Failed;
            message.error = Some(error.to_owned());
        }
        Ok(())
    }

    /// Renames the caller's conversation `id`.
    pub async fn rename_conversation(
        &self,
        who: &Principal,
        id: &str,
        title: &str,
    ) -> Result<(), ServiceError> {
        let me = owner(who)?;
        let title = title.trim();
        if title.is_empty() || title.chars().count() > MAX_TITLE_CHARS {
            return Err(ServiceError::invalid(format!(
                "title: 1 to {MAX_TITLE_CHARS} characters"
            )));
        }
        if !store::rename(self.db(), &me, id, title)
            .await
            .map_err(db_error)?
        {
            return Err(not_found(id));
        }
        Ok(())
    }

    /// Deletes the caller's conversation `id`, stopping an answer being written to it.
    pub async fn delete_conversation(&self, who: &Principal, id: &str) -> Result<(), ServiceError> {
        let me = owner(who)?;
        self.answers().stop_all(&me, id);
        if !store::delete(self.db(), &me, id).await.map_err(db_error)? {
            return Err(not_found(id));
        }
        Ok(())
    }

    /// Sends the caller's message and starts the answer; returns at once with its number.
    /// Refused while the conversation's last answer is still being written.
    pub async fn send_chat(
        &self,
        who: &Principal,
        send: ChatSend,
    ) -> Result<ChatStarted, ServiceError> {
        who.require(Permission::Infer).await?;
        require_on(self.switches(), Capability::Inference).await?;
        let me = owner(who)?;
        let text = checked_text(&send.text)?;
        let (id, model) = self.open_conversation(&me, &send).await?;
        // The model must exist and be ready before anything is recorded.
        let model_id = self
            .inference()
            .model(model.as_deref())
            .map_err(crate::runs::submit::inference_error)?
            .spec
            .id
            .clone();
        let seq = self
            .record_turn(&me, &id, &send, ChatMode::Chat, text, &model_id)
            .await?;
        let history = store::messages(self.db(), &id).await.map_err(db_error)?;
        let writer = self.answers().start(&me, &id, seq);
        let service = self.clone();
        let conversation = id.clone();
        tokio::spawn(async move {
            service
                .write_answer(writer, &conversation, seq, model_id, history)
                .await;
        });
        Ok(ChatStarted {
            conversation: id,
            seq,
        })
    }

    /// The conversation `send` goes to, with its model: the caller's (404 for anyone else's,
    /// 409 while an answer is still being written to it), or a new id (nothing is recorded
    /// yet: see [`Self::record_turn`]).
    async fn open_conversation(
        &self,
        me: &str,
        send: &ChatSend,
    ) -> Result<(String, Option<String>), ServiceError> {
        let (id, model) = match &send.conversation {
            Some(id) => {
                let (_, model) = store::header(self.db(), me, id)
                    .await
                    .map_err(db_error)?
                    .ok_or_else(|| not_found(id))?;
                (id.clone(), model)
            }
            None => (uuid::Uuid::now_v7().to_string(), send.model.clone()),
        };
        if self.answers().busy(&id) {
            return Err(ServiceError::conflict(
                "an answer is still being written in this conversation: stop it first",
            ));
        }
        Ok((id, model))
    }

    /// Records `text` and the answer about to be written to it in conversation `id`
    /// (created first, titled after `text`, when `send` starts one): answers the answer's seq.
    async fn record_turn(
        &self,
        me: &str,
        id: &str,
        send: &ChatSend,
        mode: ChatMode,
        text: &str,
        model: &str,
    ) -> Result<u32, ServiceError> {
        if send.conversation.is_none() {
            let title = clipped(&text.replace('\n', " "), 60);
            store::create(self.db(), id, me, &title, send.model.as_deref())
                .await
                .map_err(db_error)?;
        }
        store::append_turn(self.db(), id, mode, text, model)
            .await
            .map_err(db_error)
    }

    /// Writes answer `seq` of conversation `id`: the history cut to fit, the model's pieces
    /// reported as they come, the end recorded (done, stopped or failed).
    async fn write_answer(
        &self,
        writer: answers::Writer,
        id: &str,
        seq: u32,
        model: String,
        history: Vec<ConversationMessage>,
    ) {
        let mut content = String::new();
        let outcome = self.generate(&writer, &model, history, &mut content).await;
        let (status, figures, error) = match outcome {
            Ok((status, figures)) => (status, figures, None),
            Err(e) => (AnswerStatus::Failed, None, Some(e)),
        };
        let ended = store::Ended {
            content: &content,
            status,
            figures: figures.as_ref(),
            error: error.as_deref(),
            run_id: None,
        };
        if let Err(e) = store::finish(self.db(), id, seq, &ended).await {
            tracing::warn!(conversation = %id, seq, error = %e, "could not record an answer");
        }
        writer.finish(|p| {
            p.content = content.clone();
            p.status = status;
            p.figures = figures.clone();
            p.error = error.clone();
        });
    }

    /// The model's answer to `history` (its last message is the person's), into `content`:
    /// done with the engine's figures, or stopped with the figures measured here (none when
    /// stopped before its first piece).
    async fn generate(
        &self,
        writer: &answers::Writer,
        model: &str,
        history: Vec<ConversationMessage>,
        content: &mut String,
    ) -> Result<(AnswerStatus, Option<AnswerFigures>), String> {
        let (messages, dropped_turns, prompt_tokens) = self
            .fitting_prompt(model, &history)
            .await
            .map_err(|e| e.to_string())?;
        let request = ChatRequest {
            model: Some(model.to_owned()),
            messages,
            ..ChatRequest::default()
        };
        // Not raced with Stop: the engine answers a prompt's tokenization on a channel it
        // expects to be read (a dropped request there panics its thread). Stop is looked at
        // once the generation exists, before its first piece.
        let asked = Instant::now();
        let mut generation = self
            .inference()
            .chat(request)
            .await
            .map_err(|e| e.to_string())?;
        let mut first_piece: Option<Instant> = None;
        let mut pieces: u32 = 0;
        loop {
            let piece = tokio::select! {
                // Dropping the generation cancels it in the engine at its next token.
                _ = writer.stop.cancelled() => {
                    let figures = first_piece.map(|first| AnswerFigures {
                        prompt_tokens,
                        completion_tokens: pieces,
                        queue_wait_ms: 0.0,
                        ttft_ms: first.duration_since(asked).as_secs_f64() * 1e3,
                        tokens_per_s: f64::from(pieces.saturating_sub(1))
                            / first.elapsed().as_secs_f64().max(1e-3),
                        dropped_turns,
                    });
                    return Ok((AnswerStatus::Stopped, figures));
                }
                piece = generation.next() => piece,
            };
            match piece {
                Some(Ok(Piece::Text(text))) => {
                    first_piece.get_or_insert_with(Instant::now);
                    pieces += 1;
                    content.push_str(&text);
                    writer.report(|p| p.content.push_str(&text));
                }
                Some(Ok(Piece::Done(finished))) => {
                    let usage = finished.usage;
                    return Ok((
                        AnswerStatus::Done,
                        Some(AnswerFigures {
                            prompt_tokens: usage.prompt_tokens as u32,
                            completion_tokens: usage.completion_tokens as u32,
                            queue_wait_ms: usage.queue_wait_ms,
                            ttft_ms: usage.ttft_ms,
                            tokens_per_s: usage.decode_tok_s,
                            dropped_turns,
                        }),
                    ));
                }
                Some(Err(e)) => return Err(e.to_string()),
                None => return Err("the model stopped without finishing".into()),
            }
        }
    }

    /// The conversation as chat messages, the oldest turns left out until the prompt fits
    /// `inference_max_prompt_tokens`; with how many messages were left out, and the prompt's
    /// tokens. Answers that failed, the answer being written, and task turns (goals and the
    /// runs they became) are not part of it.
    async fn fitting_prompt(
        &self,
        model: &str,
        history: &[ConversationMessage],
    ) -> Result<(Vec<ChatMessage>, u32, u32), switchyard_inference::InferenceError> {
        let mut messages: Vec<ChatMessage> = history
            .iter()
            .filter(|m| {
                m.mode == ChatMode::Chat
                    && !m.content.is_empty()
                    && matches!(m.status, AnswerStatus::Done | AnswerStatus::Stopped)
            })
            .map(|m| ChatMessage::new(&m.role, m.content.clone()))
            .collect();
        let limit = self.inference().limits().max_prompt_tokens;
        let mut dropped = 0;
        loop {
            let tokens = self
                .inference()
                .prompt_tokens(Some(model), &messages)
                .await?;
            if tokens <= limit || messages.len() <= 1 {
                return Ok((messages, dropped, tokens as u32));
            }
            // A turn at a time: the person's message and the answer to it.
            messages.remove(0);
            dropped += 1;
            while messages.len() > 1 && messages[0].role != "user" {
                messages.remove(0);
                dropped += 1;
            }
        }
    }

    /// Stops the caller's answer `seq` of conversation `id` (its text so far is kept).
    pub async fn stop_answer(
        &self,
        who: &Principal,
        id: &str,
        seq: u32,
    ) -> Result<(), ServiceError> {
        let me = owner(who)?;
        if self.answers().stop(&me, id, seq) {
            return Ok(());
        }
        // Not being written here: answered by what the record says.
        self.conversation(who, id).await?;
        Err(ServiceError::conflict(format!(
            "answer {seq} of conversation {id} is not being written"
        )))
    }

    /// Follows the caller's answer `seq` of conversation `id` while it is written: the text
    /// so far at once, then each change; 404 when no such answer is being written here.
    pub fn follow_answer(
        &self,
        who: &Principal,
        id: &str,
        seq: u32,
    ) -> Result<watch::Receiver<AnswerProgress>, ServiceError> {
        let me = owner(who)?;
        self.answers().follow(&me, id, seq).ok_or_else(|| {
            ServiceError::not_found(format!(
                "answer {seq} of conversation {id} is not being written"
            ))
        })
    }
}

/// A message's text, trimmed: 1 to [`MAX_PROMPT_CHARS`] characters, not blank.
fn checked_text(text: &str) -> Result<&str, ServiceError> {
    let text = text.trim();
    if text.is_empty() || prompt_chars(text) > MAX_PROMPT_CHARS {
        return Err(ServiceError::invalid(format!(
            "message: 1 to {MAX_PROMPT_CHARS} characters, not blank"
        )));
    }
    Ok(text)
}

fn not_found(id: &str) -> ServiceError {
    ServiceError::not_found(format!("conversation {id} not found"))
}
