//! The frame every page lives in.
//!
//! # Layout
//!
//! - [`state`]: [`ShellState`], the open/closed state of every panel, persisted to
//!   `localStorage` and mirrored onto `<html data-*>` for the CSS.
//! - [`shortcuts`]: the global keyboard map (`[`, `]`, `/`, `?`, `g`+key, `Esc`).
//! - [`top_bar`]: breadcrumbs, [`search`], the [`bell`] and the user menu.
//! - [`sidebar`]: the left navigation.
//! - [`orchestrator_panel`]: the right panel (modes, messages, the prompt input).
//! - [`chat`]: the panel's chat and task modes (conversations, answers streamed, Stop).
//! - [`data_mode`]: the panel's data mode (a file checked, confirmed, written with progress;
//!   the datasets listed).
//! - [`query_mode`]: the panel's query mode (the search index's hits, scored, with snippets).
//! - [`task_run`]: a task's run inside the conversation (graph, approval cards, outputs).
//! - [`help`]: the keyboard-shortcut dialog.

pub mod bell;
pub mod chat;
pub mod data_mode;
pub mod help;
pub mod orchestrator_panel;
pub mod query_mode;
pub mod search;
pub mod shortcuts;
pub mod sidebar;
pub mod state;
pub mod task_run;
pub mod top_bar;

use leptos::prelude::*;

pub use state::ShellState;

/// Who this browser session is, fetched once per page load and shared by the sidebar (the
/// Admin link is for admins only) and the account menu.
#[derive(Clone, Copy)]
pub struct CurrentAccount(pub Resource<Result<switchyard_protocol::Account, ServerFnError>>);

impl CurrentAccount {
    pub fn expect() -> Self {
        expect_context()
    }
}

/// Top bar, sidebars and the routed page in the middle.
#[component]
pub fn AppShell(children: Children) -> impl IntoView {
    let state = ShellState::provide();
    provide_context(data_mode::DataState::new());
    crate::live::Live::provide();
    state::sync_with_browser(state);
    shortcuts::install(state);
    provide_context(CurrentAccount(Resource::new(
        || (),
        |_| crate::server_fns::account::current_account(),
    )));

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
