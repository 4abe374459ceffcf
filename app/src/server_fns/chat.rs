//! The orchestrator panel's chat and task modes: the caller's conversations, sending a
//! message (the answer is written by the server and followed over the tab's live socket) or a
//! goal (planned and started as a run by the server), stopping an answer, renaming and
//! deleting.

use leptos::prelude::*;
use switchyard_protocol::conversation::{
    ChatModel, ChatStarted, Conversation, ConversationSummary,
};

/// The models a new conversation may talk to, with their state, the default first.
#[server(prefix = "/api/fn", endpoint = "chat_models")]
pub async fn chat_models() -> Result<Vec<ChatModel>, ServerFnError> {
    use super::access::{refused, service_and_caller};
    let (service, who) = service_and_caller("chat.models")?;
    service.chat_models(&who).await.map_err(refused)
}

/// The caller's conversations, most recently used first.
#[server(prefix = "/api/fn", endpoint = "conversations")]
pub async fn conversations() -> Result<Vec<ConversationSummary>, ServerFnError> {
    use super::access::{refused, service_and_caller};
    let (service, who) = service_and_caller("chat.list")?;
    service.conversations(&who).await.map_err(refused)
}

/// The caller's conversation `id` with its messages.
#[server(prefix = "/api/fn", endpoint = "read_conversation")]
pub async fn read_conversation(id: String) -> Result<Conversation, ServerFnError> {
    use super::access::{refused, service_and_caller};
    let (service, who) = service_and_caller("chat.get")?;
    service.conversation(&who, &id).await.map_err(refused)
}

/// Sends `text` to conversation `id` (none: a new one, talking to `model`, or to the
/// default model when none is named) and starts the answer.
#[server(prefix = "/api/fn", endpoint = "send_chat")]
pub async fn send_chat(
    id: Option<String>,
    text: String,
    model: Option<String>,
) -> Result<ChatStarted, ServerFnError> {
    use super::access::{refused, service_and_caller};
    use switchyard_service::chat::ChatSend;
    let (service, who) = service_and_caller("chat.send")?;
    let send = ChatSend {
        conversation: id.filter(|id| !id.is_empty()),
        text,
        model: model.filter(|m| !m.is_empty()),
    };
    service.send_chat(&who, send).await.map_err(refused)
}

/// Sends goal `text` to conversation `id` (none: a new one): the server plans it and starts
/// the run, which becomes the answer.
#[server(prefix = "/api/fn", endpoint = "send_task")]
pub async fn send_task(id: Option<String>, text: String) -> Result<ChatStarted, ServerFnError> {
    use super::access::{refused, service_and_caller};
    use switchyard_service::chat::ChatSend;
    let (service, who) = service_and_caller("chat.task")?;
    let send = ChatSend {
        conversation: id.filter(|id| !id.is_empty()),
        text,
        model: None,
    };
    service.send_task(&who, send).await.map_err(refused)
}

/// Stops answer `seq` of conversation `id`.
#[server(prefix = "/api/fn", endpoint = "stop_answer")]
pub async fn stop_answer(id: String, seq: u32) -> Result<(), ServerFnError> {
    use super::access::{refused, service_and_caller};
    let (service, who) = service_and_caller("chat.stop")?;
    service.stop_answer(&who, &id, seq).await.map_err(refused)
}

/// Renames conversation `id`.
#[server(prefix = "/api/fn", endpoint = "rename_conversation")]
pub async fn rename_conversation(id: String, title: String) -> Result<(), ServerFnError> {
    use super::access::{refused, service_and_caller};
    let (service, who) = service_and_caller("chat.rename")?;
    service
        .rename_conversation(&who, &id, &title)
        .await
        .map_err(refused)
}

/// Deletes conversation `id` (an answer being written to it stops).
#[server(prefix = "/api/fn", endpoint = "delete_conversation")]
pub async fn delete_conversation(id: String) -> Result<(), ServerFnError> {
    use super::access::{refused, service_and_caller};
    let (service, who) = service_and_caller("chat.delete")?;
    service
        .delete_conversation(&who, &id)
        .await
        .map_err(refused)
}
