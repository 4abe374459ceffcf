//! The Settings section.

use leptos::prelude::*;

use super::empty::{Placeholder, section};

#[component]
pub fn Settings() -> impl IntoView {
    view! {
        <Placeholder
            section=section("/settings")
            detail="Models, storage tiers, users, roles and API keys will be configured here."
        />
    }
}
