//! The global search box: type to filter, arrows to choose, Enter to go.
//!
//! It matches the product's sections as you type (in the browser), and from two characters
//! on asks the server for runs (by part of their id) and workflow templates (by name or
//! description) that the caller may see.

use leptos::prelude::*;
use leptos_router::hooks::use_navigate;
use switchyard_protocol::SearchHit;

use crate::icons::{Icon, IconSvg};
use crate::nav;
use crate::server_fns::system::search_all;
use crate::shell::ShellState;

/// One line of the results: a section, or a run or template from the server.
#[derive(Debug, Clone, PartialEq)]
struct Found {
    href: String,
    icon: Icon,
    label: String,
    summary: String,
}

impl Found {
    fn section(section: &nav::Section) -> Self {
        Self {
            href: section.path.to_owned(),
            icon: section.icon,
            label: section.label.to_owned(),
            summary: section.summary.to_owned(),
        }
    }

    fn hit(hit: SearchHit) -> Self {
        Self {
            icon: match hit.kind.as_str() {
                "run" => Icon::Runs,
                "dataset" => Icon::Datasets,
                "log" => Icon::Logs,
                _ => Icon::Workflows,
            },
            href: hit.href,
            label: hit.title,
            summary: hit.detail,
        }
    }
}

#[component]
pub fn GlobalSearch() -> impl IntoView {
    let state = ShellState::expect();
    let navigate = use_navigate();
    let query = RwSignal::new(String::new());
    let selected = RwSignal::new(0_usize);
    // Runs and templates, asked of the server only in the browser and from two characters.
    let remote = LocalResource::new(move || {
        let text = query.get();
        async move {
            if text.trim().chars().count() < 2 {
                return Vec::new();
            }
            search_all(text).await.unwrap_or_default()
        }
    });
    let results = Memo::new(move |_| {
        let mut found: Vec<Found> =
            query.with(|q| nav::search(q).into_iter().map(Found::section).collect());
        if let Some(hits) = remote.get() {
            found.extend(hits.into_iter().map(Found::hit));
        }
        found
    });

    let go = Callback::new(move |href: String| {
        query.set(String::new());
        selected.set(0);
        if let Some(input) = state.search_input.get_untracked() {
            let _ = input.blur();
        }
        state.close_drawers();
        navigate(&href, Default::default());
    });

    let on_keydown = move |ev: leptos::ev::KeyboardEvent| {
        let count = results.with_untracked(Vec::len);
        match ev.key().as_str() {
            "ArrowDown" if count > 0 => {
                ev.prevent_default();
                selected.update(|i| *i = (*i + 1) % count);
            }
            "ArrowUp" if count > 0 => {
                ev.prevent_default();
                selected.update(|i| *i = (*i + count - 1) % count);
            }
            "Enter" => {
                let pick = results.with_untracked(|r| r.get(selected.get_untracked()).cloned());
                if let Some(found) = pick {
                    ev.prevent_default();
                    go.run(found.href);
                }
            }
            "Escape" => query.set(String::new()),
            _ => {}
        }
    };

    view! {
        <div class="search" role="search">
            <IconSvg icon=Icon::Search />
            <input
                id="global-search"
                type="search"
                role="combobox"
                aria-autocomplete="list"
                placeholder="Search  /"
                aria-label="Search Switchyard"
                autocomplete="off"
                aria-controls="search-results"
                aria-expanded=move || (!results.with(Vec::is_empty)).to_string()
                node_ref=state.search_input
                prop:value=move || query.get()
                on:input=move |ev| {
                    query.set(event_target_value(&ev));
                    selected.set(0);
                }
                on:keydown=on_keydown
            />
            <Show when=move || !query.with(String::is_empty)>
                <ul id="search-results" class="search-results" role="listbox">
                    <For
                        each=move || results.get().into_iter().enumerate()
                        key=|(i, found)| (*i, found.href.clone())
                        let((i, found))
                    >
                        <li
                            role="option"
                            data-href=found.href.clone()
                            aria-selected=move || (selected.get() == i).to_string()
                            on:mousedown={
                                let href = found.href.clone();
                                move |ev| {
                                    ev.prevent_default();
                                    go.run(href.clone());
                                }
                            }
                        >
                            <IconSvg icon=found.icon />
                            <span class="result-label">{found.label}</span>
                            <span class="result-summary">{found.summary}</span>
                        </li>
                    </For>
                    <Show when=move || results.with(Vec::is_empty)>
                        <li class="search-empty">"No matches"</li>
                    </Show>
                </ul>
            </Show>
        </div>
    }
}
