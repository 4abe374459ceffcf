//! The notifications bell: approvals waiting for this person, runs that failed, runs they
//! started that finished. Kept on the server (a reload or another device shows the same),
//! live over the tab's connection, with the unread count on the bell.

use leptos::prelude::*;
use leptos_router::hooks::use_navigate;
use switchyard_protocol::Notification;
use switchyard_protocol::api::live::Topic;

use crate::icons::{Icon, IconSvg};
use crate::server_fns::notifications::{MarkRead, bell};
use crate::shell::ShellState;
use crate::shell::state::Menu;

/// What a notification's kind is called in the list.
fn kind_label(kind: &str) -> &'static str {
    match kind {
        "approval_waiting" => "Approval",
        "run_failed" => "Failed",
        _ => "Finished",
    }
}

#[component]
pub fn Bell() -> impl IntoView {
    let state = ShellState::expect();
    let open = move || state.open_menu.get() == Some(Menu::Notifications);
    let live = crate::live::Live::expect();
    live.watch(Topic::Notifications);
    let mark = ServerAction::<MarkRead>::new();
    // Read in the browser only: the first paint has the bell, the count follows.
    let notes = LocalResource::new(move || {
        live.bell_changed.track();
        live.link.track();
        mark.version().track();
        bell()
    });
    let current = move || notes.get().and_then(Result::ok);
    let unread = move || current().map_or(0, |n| n.unread);
    // Which of loading / empty / a list shows: changes only when that changes, so the list
    // itself is diffed row by row.
    let listed = Memo::new(move |_| current().map(|n| n.items.is_empty()));
    let navigate = use_navigate();
    let open_one = Callback::new(move |note: Notification| {
        if !note.read {
            mark.dispatch(MarkRead {
                ids: note.id.clone(),
            });
        }
        state.open_menu.set(None);
        navigate(&format!("/runs/{}", note.run_id), Default::default());
    });
    view! {
        <div class="menu-anchor">
            <button
                class="icon-button bell-button"
                id="notifications-button"
                title=move || match unread() {
                    0 => "Notifications".to_owned(),
                    n => format!("Notifications: {n} unread"),
                }
                aria-label="Notifications"
                aria-haspopup="true"
                aria-expanded=move || open().to_string()
                on:click=move |_| state.toggle_menu(Menu::Notifications)
            >
                <IconSvg icon=Icon::Bell />
                <Show when=move || { unread() > 0 }>
                    <span class="bell-count" id="bell-count">{move || unread().min(99)}</span>
                </Show>
            </button>
            <Show when=open>
                <div class="popover bell-popover" role="dialog" aria-label="Notifications">
                    <div class="bell-head">
                        <p class="popover-title">"Notifications"</p>
                        <button
                            class="ghost-button"
                            id="bell-read-all"
                            disabled=move || { unread() == 0 }
                            on:click=move |_| {
                                mark.dispatch(MarkRead { ids: String::new() });
                            }
                        >
                            "Mark all read"
                        </button>
                    </div>
                    {move || match listed.get() {
                        None => view! { <p class="muted">"Loading…"</p> }.into_any(),
                        Some(true) => {
                            view! {
                                <p class="muted" id="bell-empty">
                                    "Nothing yet: approvals waiting for you, failed runs and the runs you start appear here when they finish."
                                </p>
                            }
                                .into_any()
                        }
                        Some(_) => {
                            // Keyed by notification and read state: a row keeps its
                            // notification (and its click) while newer ones arrive above it.
                            view! {
                                <ul class="bell-list" id="bell-list">
                                    <For
                                        each=move || current().map(|n| n.items).unwrap_or_default()
                                        key=|note| (note.id.clone(), note.read)
                                        let(note)
                                    >
                                        <BellItem note=note open=open_one />
                                    </For>
                                </ul>
                            }
                                .into_any()
                        }
                    }}
                </div>
            </Show>
        </div>
    }
}

/// One row of the bell's list; opening it marks it read and goes to its run.
#[component]
fn BellItem(note: Notification, open: Callback<Notification>) -> impl IntoView {
    let read = note.read;
    let kind = kind_label(&note.kind);
    let title = note.title.clone();
    let id = note.id.clone();
    let note_kind = note.kind.clone();
    let run = note.run_id.clone();
    view! {
        <li class="bell-item" class:unread=!read data-kind=note_kind data-id=id data-run=run>
            <button class="bell-open" on:click=move |_| open.run(note.clone())>
                <span class="bell-kind">{kind}</span>
                <span class="bell-title">{title}</span>
            </button>
        </li>
    }
}
