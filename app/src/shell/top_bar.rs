//! The top bar: menu toggle, breadcrumbs, global search, notifications, user menu, panel toggle.

use leptos::prelude::*;
use leptos_router::components::A;
use leptos_router::hooks::use_location;

use crate::icons::{Icon, IconSvg};
use crate::nav;
use crate::shell::ShellState;
use crate::shell::bell::Bell;
use crate::shell::search::GlobalSearch;
use crate::shell::state::Menu;

#[component]
pub fn TopBar() -> impl IntoView {
    let state = ShellState::expect();
    let left_expanded = state.left_expanded();
    let right_expanded = state.right_expanded();

    view! {
        <header class="top-bar">
            <button
                class="icon-button"
                id="toggle-left"
                title="Toggle sidebar  ["
                aria-label="Toggle sidebar"
                aria-controls="sidebar"
                aria-expanded=move || left_expanded.get().to_string()
                on:click=move |_| state.toggle_left()
            >
                <IconSvg icon=Icon::Menu />
            </button>
            <A href="/" attr:class="brand" attr:aria-label="Switchyard home">
                <span class="brand-mark" aria-hidden="true"></span>
                <span class="brand-name">"Switchyard"</span>
            </A>
            <Breadcrumbs />
            <GlobalSearch />
            <div class="top-bar-actions">
                <LinkIndicator />
                <Bell />
                <UserMenu />
                <button
                    class="icon-button"
                    id="toggle-right"
                    title="Toggle orchestrator panel  ]"
                    aria-label="Toggle orchestrator panel"
                    aria-controls="orchestrator-panel"
                    aria-expanded=move || right_expanded.get().to_string()
                    on:click=move |_| state.toggle_right()
                >
                    <IconSvg icon=Icon::Panel />
                </button>
            </div>
        </header>
    }
}

/// Where the tab's live connection stands: live, connecting, reconnecting or offline.
#[component]
fn LinkIndicator() -> impl IntoView {
    let link = crate::live::Live::expect().link;
    view! {
        <span
            class="link-indicator"
            id="link-indicator"
            role="status"
            aria-live="polite"
            data-state=move || link.get().word()
            title=move || link.get().explain()
        >
            <span class="link-dot" aria-hidden="true"></span>
            <span class="link-word">{move || link.get().word()}</span>
        </span>
    }
}

/// `Switchyard / Section` for the current path; unknown paths read "Not found".
#[component]
fn Breadcrumbs() -> impl IntoView {
    let location = use_location();
    let current = move || {
        let path = location.pathname.get();
        nav::page_label(&path)
    };
    view! {
        <nav class="breadcrumbs" aria-label="Breadcrumb">
            <ol>
                <li>
                    <A href="/">"Home"</A>
                </li>
                <li aria-current="page">{current}</li>
            </ol>
        </nav>
    }
}

/// The user menu: who is signed in, their account page, signing out.
#[component]
fn UserMenu() -> impl IntoView {
    let state = ShellState::expect();
    let open = move || state.open_menu.get() == Some(Menu::Account);
    let close = move || state.open_menu.set(None);
    let account = super::CurrentAccount::expect().0;
    view! {
        <div class="menu-anchor">
            <button
                class="avatar-button"
                id="user-menu-button"
                title="Account"
                aria-label="Account menu"
                aria-haspopup="menu"
                aria-expanded=move || open().to_string()
                on:click=move |_| state.toggle_menu(Menu::Account)
            >
                <IconSvg icon=Icon::User />
            </button>
            <Show when=open>
                <div class="popover menu" role="menu" aria-label="Account">
                    <Transition fallback=|| view! { <p class="popover-title">"…"</p> }>
                        {move || Suspend::new(async move {
                            match account.await {
                                Ok(account) if account.signed_in => {
                                    let admin = account.is_admin();
                                    view! {
                                        <p class="popover-title" id="account-email">{account.email}</p>
                                        <p class="muted small">{format!("Signed in · {}", account.role)}</p>
                                        <A href="/account" attr:role="menuitem" attr:id="menu-account" on:click=move |_| close()>
                                            "Account and password"
                                        </A>
                                        <Show when=move || admin>
                                            <A href="/admin" attr:role="menuitem" attr:id="menu-admin" on:click=move |_| close()>
                                                "Admin"
                                            </A>
                                        </Show>
                                        <form method="post" action="/logout">
                                            <button type="submit" role="menuitem" class="menu-item" id="sign-out">
                                                "Sign out"
                                            </button>
                                        </form>
                                    }
                                    .into_any()
                                }
                                _ => view! {
                                    <p class="popover-title">"Local operator"</p>
                                    <p class="muted small">"No sign-in configured on this server."</p>
                                    <A href="/admin" attr:role="menuitem" attr:id="menu-admin" on:click=move |_| close()>
                                        "Admin"
                                    </A>
                                }
                                .into_any(),
                            }
                        })}
                    </Transition>
                    <A href="/settings" attr:role="menuitem" on:click=move |_| close()>
                        "Settings"
                    </A>
                    <button
                        role="menuitem"
                        class="menu-item"
                        on:click=move |_| {
                            close();
                            state.help_open.set(true);
                        }
                    >
                        "Keyboard shortcuts"
                        <kbd>"?"</kbd>
                    </button>
                </div>
            </Show>
        </div>
    }
}
