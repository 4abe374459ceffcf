//! The frame every page lives in.
//!
//! # Layout
//!
//! - [`state`]: [`ShellState`], the open/closed state of every panel, persisted to
//!   `localStorage` and mirrored onto `<html data-*>` for the CSS.
//! - [`shortcuts`]: the global keyboard map (`[`, `]`, `/`, `?`, `g`+key, `Esc`).
//! - [`top_bar`]: breadcrumbs, [`search`], notifications and the user menu.
//! - [`sidebar`]: the left navigation.
//! - [`orchestrator_panel`]: the right panel (modes, messages, the prompt input).
//! - [`help`]: the keyboard-shortcut dialog.

pub mod help;
pub mod orchestrator_panel;
pub mod search;
pub mod shortcuts;
pub mod sidebar;
pub mod state;
pub mod top_bar;

use leptos::prelude::*;

pub use state::ShellState;

/// Top bar, sidebars and the routed page in the middle.
#[component]
pub fn AppShell(children: Children) -> impl IntoView {
    let state = ShellState::provide();
    state::sync_with_browser(state);
    shortcuts::install(state);

    view! {
        <div class="app-shell">
            <a class="skip-link" href="#main">"Skip to content"</a>
            <top_bar::TopBar />
            <sidebar::Sidebar />
            <main id="main" class="main-content" tabindex="-1">
                {children()}
            </main>
            <orchestrator_panel::OrchestratorPanel />
            <div
                class="drawer-backdrop"
                aria-hidden="true"
                on:click=move |_| {
                    state.close_drawers();
                }
            ></div>
            <help::ShortcutHelp />
        </div>
    }
}
