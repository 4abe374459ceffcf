//! The left navigation: one link per section, an icon rail when collapsed, a drawer on phones.

use leptos::prelude::*;
use leptos_router::components::A;

use crate::icons::IconSvg;
use crate::nav::SECTIONS;
use crate::shell::ShellState;

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
            <p class="sidebar-foot">
                <span class="status-dot" aria-hidden="true"></span>
                <span class="nav-label">{concat!("v", env!("CARGO_PKG_VERSION"))}</span>
            </p>
        </nav>
    }
}
