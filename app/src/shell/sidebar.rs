//! The left navigation: one link per section, an icon rail when collapsed, a drawer on phones.

use leptos::prelude::*;
use leptos_router::components::A;

use crate::icons::{Icon, IconSvg};
use crate::nav::SECTIONS;
use crate::shell::{CurrentAccount, ShellState};

#[component]
pub fn Sidebar() -> impl IntoView {
    let state = ShellState::expect();
    let live = crate::live::Live::expect();
    view! {
        <nav id="sidebar" class="sidebar" aria-label="Sections">
            <ul>
                {SECTIONS
                    .iter()
                    .map(|section| {
                        view! {
                            <li>
                                <A
                                    href=section.path
                                    exact=true
                                    attr:title=section.label
                                    attr:class="nav-link"
                                    on:click=move |_| {
                                        state.left_drawer.set(false);
                                    }
                                >
                                    <IconSvg icon=section.icon />
                                    <span class="nav-label">{section.label}</span>
                                    {(section.path == "/approvals").then(|| view! { <ApprovalsBadge /> })}
                                    <kbd class="nav-key" aria-hidden="true">
                                        {format!("g {}", section.go_key)}
                                    </kbd>
                                </A>
                            </li>
                        }
                    })
                    .collect_view()}
            </ul>
            <AdminLink />
            <p class="sidebar-foot">
                <span
                    class="status-dot"
                    aria-hidden="true"
                    data-state=move || live.link.get().word()
                ></span>
                <span class="nav-label">{concat!("v", env!("CARGO_PKG_VERSION"))}</span>
            </p>
        </nav>
    }
}

/// How many steps wait for a person, on the Approvals link; kept current by the live
/// connection. Nothing when none wait.
#[component]
fn ApprovalsBadge() -> impl IntoView {
    let live = crate::live::Live::expect();
    live.watch(switchyard_protocol::api::live::Topic::Approvals);
    let pending = Resource::new(
        move || live.approvals_changed.get(),
        |_| crate::server_fns::approvals::approvals_waiting(),
    );
    view! {
        <Transition fallback=|| ()>
            {move || Suspend::new(async move {
                let waiting = pending.await.unwrap_or(0);
                (waiting > 0)
                    .then(|| {
                        view! {
                            <span
                                class="nav-badge"
                                id="approvals-badge"
                                title=format!("{waiting} waiting for a person")
                            >
                                {waiting}
                            </span>
                        }
                    })
            })}
        </Transition>
    }
}

/// The Admin link, shown to admins only (the page and its server functions refuse others
/// anyway).
#[component]
fn AdminLink() -> impl IntoView {
    let state = ShellState::expect();
    let account = CurrentAccount::expect().0;
    view! {
        <Transition fallback=|| ()>
            {move || Suspend::new(async move {
                account.await.ok().filter(|a| a.is_admin()).map(|_| {
                    view! {
                        <ul class="nav-secondary">
                            <li>
                                <A
                                    href="/admin"
                                    attr:title="Admin"
                                    attr:class="nav-link"
                                    attr:id="nav-admin"
                                    on:click=move |_| {
                                        state.left_drawer.set(false);
                                    }
                                >
                                    <IconSvg icon=Icon::Shield />
                                    <span class="nav-label">"Admin"</span>
                                </A>
                            </li>
                        </ul>
                    }
                })
            })}
        </Transition>
    }
}
