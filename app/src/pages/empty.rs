//! The page body for a section with nothing to show: its heading, its summary, and a card
//! that says plainly what is (and is not) there.

use leptos::prelude::*;
use leptos_meta::Title;

use crate::icons::IconSvg;
use crate::nav::Section;

/// Heading, summary and a "Nothing here" card with `detail`: what is true today.
#[component]
pub fn Placeholder(section: &'static Section, detail: &'static str) -> impl IntoView {
    view! {
        <Title text=section.label />
        <div class="page">
            <header class="page-header">
                <h1>{section.label}</h1>
                <p class="muted">{section.summary}</p>
            </header>
            <section class="empty-state card">
                <span class="empty-icon">
                    <IconSvg icon=section.icon />
                </span>
                <h2>"Nothing here"</h2>
                <p class="muted">{detail}</p>
            </section>
        </div>
    }
}

/// The [`Section`] registered for `path` in [`crate::nav::SECTIONS`].
pub fn section(path: &str) -> &'static Section {
    crate::nav::SECTIONS
        .iter()
        .find(|s| s.path == path)
        .expect("every page has a section in nav::SECTIONS")
}
