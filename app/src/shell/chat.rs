//! The orchestrator panel's chat and task modes: the person's conversations kept on the
//! server, the model's answer appearing as the server writes it (over the tab's live socket),
//! Stop (the button or `Esc`) ending it on the server. In task mode a message is a goal: its
//! planning shows as it happens, then the run it became ([`super::task_run`]). A reload finds
//! the same conversation, and an answer still being written goes on appearing.

use leptos::prelude::*;
use switchyard_protocol::ChatMode;
use switchyard_protocol::conversation::{
    AnswerFigures, AnswerStatus, Conversation, ConversationMessage, answer_key, task_planning_id,
};

use super::task_run::TaskRun;
use crate::live::Live;
use crate::pages::{planning_view, server_message};
use crate::server_fns::chat::{
    DeleteConversation, RenameConversation, chat_models, conversations, read_conversation,
    stop_answer,
};
use crate::shell::ShellState;

/// `localStorage` key of the conversation shown.
const KEY_CONVERSATION: &str = "switchyard.chat.conversation";

/// What the chat mode shares with the panel's prompt: the conversation shown, the answer
/// being written, and a counter that re-reads the conversation.
#[derive(Debug, Clone, Copy)]
pub struct ChatState {
    /// The conversation shown; `None`: the next message starts one.
    pub current: RwSignal<Option<String>>,
    /// `(conversation, seq)` of the answer being written, while it is.
    pub writing: RwSignal<Option<(String, u32)>>,
    /// The planning id of the task being planned, while it is (shown under the thread).
    pub planning: RwSignal<Option<String>>,
    /// Ticks to re-read the list and the conversation.
    pub changed: RwSignal<u64>,
    /// The last refusal (sending, stopping, renaming), shown under the thread.
    pub problem: RwSignal<Option<String>>,
    /// The model picked for the next new conversation; `None`: the default.
    pub model: RwSignal<Option<String>>,
}

impl ChatState {
    /// The state, with the conversation shown last restored.
    pub fn restore() -> Self {
        let state = Self {
            current: RwSignal::new(None),
            writing: RwSignal::new(None),
            planning: RwSignal::new(None),
            changed: RwSignal::new(0),
            problem: RwSignal::new(None),
            model: RwSignal::new(None),
        };
        // The conversation shown survives a reload.
        Effect::new(move |first: Option<()>| {
            if first.is_none()
                && let Some(id) = stored()
            {
                state.current.set(Some(id));
            }
            let current = state.current.get();
            if first.is_some() {
                store(current.as_deref());
            }
        });
        state
    }

    /// Shows `conversation` and follows its answer `seq` as the server writes it (for a task,
    /// also the planning of its goal).
    pub fn started(&self, conversation: String, seq: u32, mode: ChatMode) {
        self.follow(Live::expect(), &conversation, seq, mode);
        self.writing.set(Some((conversation.clone(), seq)));
        self.current.set(Some(conversation));
        self.problem.set(None);
        self.changed.update(|n| *n += 1);
    }

    /// Follows answer `seq` of `conversation` as the server writes it; for a task, also the
    /// planning of its goal.
    fn follow(&self, live: Live, conversation: &str, seq: u32, mode: ChatMode) {
        if mode == ChatMode::Task {
            let id = task_planning_id(conversation, seq);
            live.follow_planning(&id);
            self.planning.set(Some(id));
        }
        live.follow_answer(&answer_key(conversation, seq));
    }

    /// Asks the server to stop the answer being written.
    pub fn stop(&self) {
        let Some((id, seq)) = self.writing.get_untracked() else {
            return;
        };
        let problem = self.problem;
        leptos::task::spawn_local(async move {
            if let Err(e) = stop_answer(id, seq).await {
                problem.set(Some(server_message(&e)));
            }
        });
    }
}

#[component]
pub fn ChatThread(chat: ChatState) -> impl IntoView {
    let live = Live::expect();
    let list = Resource::new(
        move || chat.changed.get(),
        |_| async move { conversations().await.unwrap_or_default() },
    );
    let shown = Resource::new(
        move || (chat.current.get(), chat.changed.get()),
        |(id, _)| async move {
            match id {
                Some(id) => read_conversation(id).await.map(Some),
                None => Ok(None),
            }
        },
    );
    // Re-attach: a conversation read with an answer still being written follows it.
    Effect::new(move |_| {
        if let Some(Ok(Some(conversation))) = shown.get() {
            let writing = conversation
                .messages
                .iter()
                .rev()
                .find(|m| m.status == AnswerStatus::Generating)
                .map(|m| (m.seq, m.mode));
            match writing {
                Some((seq, mode))
                    if chat.writing.get_untracked() != Some((conversation.id.clone(), seq)) =>
                {
                    chat.follow(live, &conversation.id, seq, mode);
                    chat.writing.set(Some((conversation.id.clone(), seq)));
                }
                None if chat
                    .writing
                    .get_untracked()
                    .is_some_and(|(id, _)| id == conversation.id) =>
                {
                    chat.writing.set(None);
                    chat.planning.set(None);
                }
                _ => {}
            }
        }
    });
    // The answer ended: read the conversation again for its figures.
    Effect::new(move |_| {
        let ended = live.answer.with(|a| {
            a.as_ref()
                .is_some_and(|a| a.status != AnswerStatus::Generating)
        });
        if ended && chat.writing.get_untracked().is_some() {
            chat.writing.set(None);
            chat.planning.set(None);
            chat.changed.update(|n| *n += 1);
        }
    });
    let rename = ServerAction::<RenameConversation>::new();
    let delete = ServerAction::<DeleteConversation>::new();
    let shell = ShellState::expect();
    // The model picker: for a new conversation in chat mode (a task is planned by the
    // planner's model). Read in the browser when shown; listed with each model's state.
    let picking = Memo::new(move |_| {
        shell.mode.get() == ChatMode::Chat && chat.current.with(Option::is_none)
    });
    // Read only while the picker shows, and again every 2 s while a model is still loading,
    // so the picker says when it is ready.
    let models_read = RwSignal::new(0_u32);
    let models = LocalResource::new(move || {
        let (shown, _) = (picking.get(), models_read.get());
        async move {
            match shown {
                true => chat_models().await.unwrap_or_default(),
                false => Vec::new(),
            }
        }
    });
    Effect::new(move |_| {
        let loading = models
            .get()
            .is_some_and(|m| m.iter().any(|m| m.state == "loading"));
        if loading {
            set_timeout(
                move || models_read.update(|n| *n += 1),
                std::time::Duration::from_secs(2),
            );
        }
    });
    let talking_to = move || {
        shown
            .get()
            .and_then(Result::ok)
            .flatten()
            .map(|c| c.model.unwrap_or_else(|| "default model".into()))
    };
    Effect::new(move |_| {
        if let Some(Ok(())) = delete.value().get() {
            chat.current.set(None);
            chat.changed.update(|n| *n += 1);
        }
    });
    Effect::new(move |_| {
        if let Some(Ok(())) = rename.value().get() {
            chat.changed.update(|n| *n += 1);
        }
    });
    let renaming = RwSignal::new(false);
    let title = RwSignal::new(String::new());
    let commit_rename = move || {
        renaming.set(false);
        if let Some(id) = chat.current.get_untracked() {
            rename.dispatch(RenameConversation {
                id,
                title: title.get_untracked(),
            });
        }
    };
    view! {
        <div class="chat-bar">
            <label class="visually-hidden" for="chat-conversation">"Conversation"</label>
            <select
                id="chat-conversation"
                class="inline-select"
                on:change=move |ev| {
                    let id = event_target_value(&ev);
                    chat.current.set((!id.is_empty()).then_some(id));
                }
            >
                <option value="" selected=move || chat.current.get().is_none()>"New conversation"</option>
                <Suspense>
                    {move || Suspend::new(async move {
                        let current = chat.current.get();
                        list.await
                            .into_iter()
                            .map(|c| {
                                let selected = current.as_deref() == Some(c.id.as_str());
                                view! { <option value=c.id selected=selected>{c.title}</option> }
                            })
                            .collect_view()
                    })}
                </Suspense>
            </select>
            <Show when=move || picking.get()>
                <label class="visually-hidden" for="chat-model">"Model"</label>
                <select
                    id="chat-model"
                    class="inline-select"
                    title="The model this conversation talks to"
                    on:change=move |ev| {
                        let id = event_target_value(&ev);
                        chat.model.set((!id.is_empty()).then_some(id));
                    }
                >
                    {move || {
                        let picked = chat.model.get();
                        models
                            .get()
                            .unwrap_or_default()
                            .into_iter()
                            .map(|m| {
                                let value = if m.default { String::new() } else { m.id.clone() };
                                let selected = picked.as_deref().unwrap_or("") == value;
                                let mut label = m.id.clone();
                                if m.default {
                                    label.push_str(" · default");
                                }
                                if !m.detail.is_empty() {
                                    label = format!("{label} · {}", m.detail);
                                }
                                let ready = m.state == "ready";
                                view! {
                                    <option value=value selected=selected disabled=!ready data-state=m.state>
                                        {label}
                                    </option>
                                }
                            })
                            .collect_view()
                    }}
                </select>
            </Show>
            <Show when=move || chat.current.with(Option::is_some)>
                <Show when=move || shell.mode.get() == ChatMode::Chat>
                    <span class="muted small chat-model-name" id="chat-model-name" title="The model this conversation talks to">
                        {talking_to}
                    </span>
                </Show>
                <button
                    class="ghost-button"
                    id="chat-rename"
                    title="Rename this conversation"
                    on:click=move |_| {
                        let now = shown
                            .get_untracked()
                            .and_then(Result::ok)
                            .flatten()
                            .map(|c| c.title)
                            .unwrap_or_default();
                        title.set(now);
                        renaming.set(true);
                    }
                >
                    "Rename"
                </button>
                <button
                    class="ghost-button danger"
                    id="chat-delete"
                    title="Delete this conversation and its messages"
                    on:click=move |_| {
                        if let Some(id) = chat.current.get_untracked() {
                            delete.dispatch(DeleteConversation { id });
                        }
                    }
                >
                    "Delete"
                </button>
            </Show>
        </div>
        <Show when=move || renaming.get()>
            <form class="chat-rename" on:submit=move |ev| {
                ev.prevent_default();
                commit_rename();
            }>
                <input
                    id="chat-title"
                    class="inline-input"
                    aria-label="Conversation title"
                    maxlength="120"
                    prop:value=move || title.get()
                    on:input=move |ev| title.set(event_target_value(&ev))
                />
                <button class="button" type="submit" id="chat-title-save">"Save"</button>
            </form>
        </Show>
        <ol class="message-list" id="chat-thread" aria-live="polite" aria-label="Conversation">
            <Transition>
                {move || Suspend::new(async move {
                    match shown.await {
                        Ok(Some(conversation)) => thread(conversation, live).into_any(),
                        Ok(None) => view! {
                            <li class="message-empty">
                                <p>"Chat: talk to the local model. Task: state a goal; it is planned into a run you follow and approve here. Conversations are kept on the server."</p>
                                <p class="muted small">"Enter sends · Shift+Enter: new line · Esc stops an answer"</p>
                            </li>
                        }
                        .into_any(),
                        Err(e) => view! {
                            <li class="message-empty"><p class="error-text">{server_message(&e)}</p></li>
                        }
                        .into_any(),
                    }
                })}
            </Transition>
        </ol>
        // The task being planned: each state as the server reports it (shown from the moment
        // it is sent, so even a plan written in a few milliseconds shows how it was made).
        {move || chat.planning.get().map(|id| {
            let progress = live.planning.with(|p| {
                p.as_ref().filter(|(of, _)| *of == id).map(|(_, progress)| progress.clone())
            });
            match progress {
                Some(progress) => planning_view(progress, "task-planning").into_any(),
                None => view! {
                    <div class="notice planning-progress" role="status" id="task-planning" data-stage="sent">
                        <p class="planning-headline">"Planning: the goal is on its way to the model…"</p>
                    </div>
                }
                .into_any(),
            }
        })}
        {move || chat.problem.get().map(|problem| view! {
            <p class="notice notice-error chat-problem" role="alert" id="chat-problem">{problem}</p>
        })}
    }
}

/// Every message of `conversation`; the answer being written shows the text the socket
/// brought so far.
fn thread(conversation: Conversation, live: Live) -> impl IntoView {
    let id = conversation.id;
    let views: Vec<_> = conversation
        .messages
        .into_iter()
        .map(|message| message_view(id.clone(), message, live))
        .collect();
    views
}

fn message_view(conversation: String, message: ConversationMessage, live: Live) -> impl IntoView {
    let you = message.role == "user";
    let task = message.mode == ChatMode::Task;
    let author = match (you, task) {
        (true, false) => "You".to_owned(),
        (true, true) => "You · goal".to_owned(),
        (false, false) => message.model.clone().unwrap_or_else(|| "model".into()),
        (false, true) => "Switchyard · run".to_owned(),
    };
    let key = (conversation, message.seq);
    let stored = message.content.clone();
    let stored_status = message.status;
    // While written: the socket's text and status; after: what the server recorded.
    let progress = move || {
        live.answer.with(|a| {
            a.as_ref()
                .filter(|a| (a.conversation.as_str(), a.seq) == (key.0.as_str(), key.1))
                .map(|a| (a.content.clone(), a.status))
        })
    };
    let content = {
        let stored = stored.clone();
        let progress = progress.clone();
        move || match stored_status {
            AnswerStatus::Generating => progress().map_or_else(|| stored.clone(), |(c, _)| c),
            _ => stored.clone(),
        }
    };
    let status = move || match stored_status {
        AnswerStatus::Generating => progress().map_or(stored_status, |(_, s)| s),
        other => other,
    };
    let status_word = status.clone();
    let figures = message
        .figures
        .as_ref()
        .map(figures_line)
        .unwrap_or_default();
    let error = message.error.clone().unwrap_or_default();
    let run = message
        .run_id
        .clone()
        .map(|run_id| view! { <TaskRun run_id /> });
    view! {
        <li
            class="message"
            class:message-you=you
            class:message-system=!you
            class:message-task=task
            data-seq=message.seq
            data-mode=message.mode.as_str()
            data-status=move || status().as_str()
        >
            <span class="message-meta" title=figures>
                {author}
                {move || match (status_word(), task) {
                    (AnswerStatus::Generating, false) => " · writing…",
                    (AnswerStatus::Generating, true) => " · planning…",
                    (AnswerStatus::Stopped, _) => " · stopped",
                    (AnswerStatus::Failed, _) => " · failed",
                    (AnswerStatus::Done, _) => "",
                }}
            </span>
            // Markdown, sanitised: raw HTML shows as text, no script links, no remote images.
            <div class="message-text markdown" inner_html=move || crate::markdown::to_safe_html(&content())></div>
            <p class="message-error error-text small">{error}</p>
            {run}
        </li>
    }
}

/// `42 tokens · TTFT 120 ms · 35.2 tokens/s`, and the turns left out, if any.
fn figures_line(f: &AnswerFigures) -> String {
    let mut line = format!(
        "{} tokens · TTFT {:.0} ms · {:.1} tokens/s · prompt {} tokens",
        f.completion_tokens, f.ttft_ms, f.tokens_per_s, f.prompt_tokens
    );
    if f.dropped_turns > 0 {
        line.push_str(&format!(
            " · {} earlier message(s) left out to fit the prompt limit",
            f.dropped_turns
        ));
    }
    line
}

fn stored() -> Option<String> {
    #[cfg(feature = "hydrate")]
    {
        web_sys::window()?
            .local_storage()
            .ok()??
            .get_item(KEY_CONVERSATION)
            .ok()?
            .filter(|id| !id.is_empty())
    }
    #[cfg(not(feature = "hydrate"))]
    {
        let _ = KEY_CONVERSATION;
        None
    }
}

fn store(id: Option<&str>) {
    #[cfg(feature = "hydrate")]
    if let Some(storage) = web_sys::window().and_then(|w| w.local_storage().ok().flatten()) {
        let _ = match id {
            Some(id) => storage.set_item(KEY_CONVERSATION, id),
            None => storage.remove_item(KEY_CONVERSATION),
        };
    }
    #[cfg(not(feature = "hydrate"))]
    let _ = id;
}
