//! The Agents section.

use leptos::prelude::*;

use super::empty::{Placeholder, section};

#[component]
pub fn Agents() -> impl IntoView {
    view! {
        <Placeholder
            section=section("/agents")
            detail="Departments (planner, researcher, coder …) and external agents that post events will be listed here with their tools and limits."
        />
    }
}
