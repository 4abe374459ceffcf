//! The Logs section.

use leptos::prelude::*;

use super::empty::{Placeholder, section};

#[component]
pub fn Logs() -> impl IntoView {
    view! {
        <Placeholder
            section=section("/logs")
            detail="This page shows no log lines. The lines external agents report are stored and read back with GET /api/v1/events?project=NAME."
        />
    }
}
