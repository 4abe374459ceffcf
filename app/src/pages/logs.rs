//! The Logs section.

use leptos::prelude::*;

use super::empty::{Placeholder, section};

#[component]
pub fn Logs() -> impl IntoView {
    view! {
        <Placeholder
            section=section("/logs")
            detail="A live, filterable stream of log lines from runs and external agents will scroll here."
        />
    }
}
