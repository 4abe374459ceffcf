//! The global search box: type to filter, arrows to choose, Enter to go.
//!
//! It searches the product's sections today; runs, agents and logs join the index as their
//! pages land.

use leptos::prelude::*;
use leptos_router::hooks::use_navigate;

use crate::icons::{Icon, IconSvg};
use crate::nav;
use crate::shell::ShellState;

#[component]
pub fn GlobalSearch() -> impl IntoView {
    let state = ShellState::expect();
    let navigate = use_navigate();
    let query = RwSignal::new(String::new());
    let selected = RwSignal::new(0_usize);
    let results = Memo::new(move |_| query.with(|q| nav::search(q)));

    let go = Callback::new(move |path: &'static str| {
        query.set(String::new());
        selected.set(0);
        if let Some(input) = state.search_input.get_untracked() {
            let _ = input.blur();
        }
        state.close_drawers();
        navigate(path, Default::default());
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
                let pick = results.with_untracked(|r| r.get(selected.get_untracked()).copied());
                if let Some(section) = pick {
                    ev.prevent_default();
                    go.run(section.path);
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
                        key=|(i, s)| (*i, s.path)
                        let((i, section))
                    >
                        <li
                            role="option"
                            aria-selected=move || (selected.get() == i).to_string()
                            on:mousedown=move |ev| {
                                ev.prevent_default();
                                go.run(section.path);
                            }
                        >
                            <IconSvg icon=section.icon />
                            <span class="result-label">{section.label}</span>
                            <span class="result-summary">{section.summary}</span>
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
