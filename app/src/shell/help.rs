//! The keyboard-shortcut dialog (`?`).

use leptos::prelude::*;

use crate::icons::{Icon, IconSvg};
use crate::nav::SECTIONS;
use crate::shell::ShellState;

const PANEL_KEYS: [(&str, &str); 5] = [
    ("[", "Collapse or expand the sidebar"),
    ("]", "Show or hide the orchestrator panel"),
    ("/", "Search"),
    ("?", "Show or hide this list"),
    ("Esc", "Close a dialog, menu or drawer; leave a text field"),
];

#[component]
pub fn ShortcutHelp() -> impl IntoView {
    let state = ShellState::expect();
    view! {
        <Show when=move || state.help_open.get()>
            <div class="modal-backdrop" on:click=move |_| state.help_open.set(false)>
                <div
                    class="modal"
                    role="dialog"
                    aria-modal="true"
                    aria-labelledby="shortcut-help-title"
                    on:click=|ev| ev.stop_propagation()
                >
                    <header class="modal-header">
                        <h2 id="shortcut-help-title">
                            <IconSvg icon=Icon::Keyboard />
                            "Keyboard shortcuts"
                        </h2>
                        <button
                            class="icon-button"
                            aria-label="Close"
                            on:click=move |_| state.help_open.set(false)
                        >
                            <IconSvg icon=Icon::Close />
                        </button>
                    </header>
                    <div class="shortcut-columns">
                        <dl class="shortcut-list">
                            {PANEL_KEYS
                                .iter()
                                .map(|(key, what)| {
                                    view! {
                                        <dt>
                                            <kbd>{*key}</kbd>
                                        </dt>
                                        <dd>{*what}</dd>
                                    }
                                })
                                .collect_view()}
                        </dl>
                        <dl class="shortcut-list">
                            {SECTIONS
                                .iter()
                                .map(|s| {
                                    view! {
                                        <dt>
                                            <kbd>"g"</kbd>
                                            " "
                                            <kbd>{s.go_key.to_string()}</kbd>
                                        </dt>
                                        <dd>{format!("Go to {}", s.label)}</dd>
                                    }
                                })
                                .collect_view()}
                        </dl>
                    </div>
                    <p class="muted small">
                        "In the prompt: Enter sends, Shift+Enter starts a new line."
                    </p>
                </div>
            </div>
        </Show>
    }
}
