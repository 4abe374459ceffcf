//! The Alerts section.

use leptos::prelude::*;

use super::empty::{Placeholder, section};

#[component]
pub fn Alerts() -> impl IntoView {
    view! {
        <Placeholder
            section=section("/alerts")
            detail="Alert rules and guardrails, and the history of what fired, will be managed here."
        />
    }
}
