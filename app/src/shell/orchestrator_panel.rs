//! The right panel: talk to the orchestrator in one of four modes.
//!
//! The input enforces [`MAX_PROMPT_CHARS`] (the same constant the server checks) and shows a
//! live counter. Chat mode talks to the local model through the server ([`super::chat`]):
//! conversations kept per person, answers streamed as the server writes them, Stop (button
//! or `Esc`) ending them there. Task mode sends a goal to the same conversation: the server
//! plans it and starts a run, shown in place ([`super::task_run`]). Data mode checks a
//! dropped file or a pasted table and writes it as a dataset once confirmed
//! ([`super::data_mode`]). Query mode searches the index over runs, datasets and log lines
//! ([`super::query_mode`]).

use leptos::prelude::*;
use switchyard_protocol::{ChatMode, MAX_PROMPT_CHARS, prompt_chars};

use super::chat::{ChatState, ChatThread};
use super::data_mode::{DataMode, DataState};
use super::query_mode::{QueryMode, QueryState};
use crate::figures::grouped;
use crate::icons::{Icon, IconSvg};
use crate::pages::server_message;
use crate::server_fns::chat::{SendChat, SendTask};
use crate::shell::ShellState;

/// The counter turns amber past this share of the limit.
const WARN_AT: usize = MAX_PROMPT_CHARS * 9 / 10;

#[component]
pub fn OrchestratorPanel() -> impl IntoView {
    let state = ShellState::expect();
    let chat = ChatState::restore();
    let data = DataState::expect();
    let query = QueryState::new();
    let draft = RwSignal::new(String::new());
    let length = Memo::new(move |_| draft.with(|d| prompt_chars(d)));
    let send_chat = ServerAction::<SendChat>::new();
    let send_task = ServerAction::<SendTask>::new();
    // Chat and Task share the conversation thread.
    let chatting = move || matches!(state.mode.get(), ChatMode::Chat | ChatMode::Task);
    let answering = move || chatting() && chat.writing.with(Option::is_some);
    let can_send = move || {
        let n = length.get();
        n > 0
            && n <= MAX_PROMPT_CHARS
            && draft.with(|d| !d.trim().is_empty())
            && !send_chat.pending().get()
            && !send_task.pending().get()
            && !answering()
            && !(state.mode.get() == ChatMode::Data && data.sending.with(Option::is_some))
    };
    for (action, mode) in [
        (send_chat.value(), ChatMode::Chat),
        (send_task.value(), ChatMode::Task),
    ] {
        Effect::new(move |_| match action.get() {
            Some(Ok(started)) => {
                draft.set(String::new());
                chat.started(started.conversation, started.seq, mode);
            }
            Some(Err(e)) => chat.problem.set(Some(server_message(&e))),
            None => {}
        });
    }

    let send = move || {
        if !can_send() {
            return;
        }
        let mode = state.mode.get_untracked();
        let text = draft.get_untracked().trim().to_owned();
        let id = chat.current.get_untracked();
        match mode {
            ChatMode::Chat => {
                let model = chat.model.get_untracked();
                send_chat.dispatch(SendChat { id, text, model });
                return;
            }
            ChatMode::Task => {
                send_task.dispatch(SendTask { id, text });
                return;
            }
            ChatMode::Data => data.send_text(text),
            ChatMode::Query => query.ask(text),
        }
        draft.set(String::new());
    };

    view! {
        <aside
            id="orchestrator-panel"
            class="orchestrator-panel"
            aria-label="Orchestrator"
            on:keydown=move |ev| {
                if ev.key() == "Escape" && answering() {
                    ev.prevent_default();
                    chat.stop();
                }
            }
        >
            <header class="panel-header">
                <h2>"Orchestrator"</h2>
                <div class="mode-selector" role="group" aria-label="Mode">
                    {ChatMode::ALL
                        .into_iter()
                        .map(|mode| {
                            view! {
                                <button
                                    class="mode-button"
                                    data-mode=mode.as_str()
                                    aria-pressed=move || (state.mode.get() == mode).to_string()
                                    on:click=move |_| state.mode.set(mode)
                                >
                                    {mode.label()}
                                </button>
                            }
                        })
                        .collect_view()}
                </div>
            </header>
            <Show
                when=chatting
                fallback=move || {
                    view! {
                        <Show
                            when=move || state.mode.get() == ChatMode::Data
                            fallback=move || view! { <QueryMode query /> }
                        >
                            <DataMode data />
                        </Show>
                    }
                }
            >
                <ChatThread chat />
            </Show>
            <form
                class="prompt"
                on:submit=move |ev| {
                    ev.prevent_default();
                    send();
                }
            >
                <textarea
                    id="prompt-input"
                    rows="3"
                    maxlength=MAX_PROMPT_CHARS
                    aria-label="Message"
                    aria-describedby="prompt-counter"
                    placeholder=move || state.mode.get().placeholder()
                    prop:value=move || draft.get()
                    on:input=move |ev| draft.set(event_target_value(&ev))
                    on:keydown=move |ev| {
                        if ev.key() == "Enter" && !ev.shift_key() {
                            ev.prevent_default();
                            send();
                        }
                    }
                ></textarea>
                <div class="prompt-footer">
                    <span
                        id="prompt-counter"
                        class=move || counter_class(length.get())
                        aria-live="polite"
                    >
                        {move || grouped(length.get() as u64)}
                        " / "
                        {grouped(MAX_PROMPT_CHARS as u64)}
                    </span>
                    <Show
                        when=answering
                        fallback=move || {
                            view! {
                                <button
                                    type="submit"
                                    class="send-button"
                                    aria-label="Send"
                                    disabled=move || !can_send()
                                >
                                    <IconSvg icon=Icon::Send />
                                    "Send"
                                </button>
                            }
                        }
                    >
                        <button
                            type="button"
                            class="send-button stop-button"
                            id="chat-stop"
                            title=move || match state.mode.get() {
                                ChatMode::Task => "Stop (Esc): the model finishes the plan, then the run is cancelled as it starts",
                                _ => "Stop the answer (Esc)",
                            }
                            on:click=move |_| chat.stop()
                        >
                            "Stop"
                        </button>
                    </Show>
                </div>
            </form>
        </aside>
    }
}

/// The counter's classes: amber near the limit, red at it.
fn counter_class(length: usize) -> &'static str {
    if length >= MAX_PROMPT_CHARS {
        "counter counter-full"
    } else if length >= WARN_AT {
        "counter counter-warn"
    } else {
        "counter"
    }
}
