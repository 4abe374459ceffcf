//! The left navigation: one link per section, an icon rail when collapsed, a drawer on phones.

use leptos::prelude::*;
use leptos_router::components::A;

use crate::icons::{Icon, IconSvg};
use crate::nav::SECTIONS;
use crate::shell::{CurrentAccount, ShellState};

#[component]
pub fn Sidebar() -> impl IntoView {
    let state = ShellState::expect();
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
                <span class="status-dot" aria-hidden="true"></span>
                <span class="nav-label">{concat!("v", env!("CARGO_PKG_VERSION"))}</span>
            </p>
        </nav>
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
