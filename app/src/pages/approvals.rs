//! The Approvals section.

use leptos::prelude::*;

use super::empty::{Placeholder, section};

#[component]
pub fn Approvals() -> impl IntoView {
    view! {
        <Placeholder
            section=section("/approvals")
            detail="Steps above the risk threshold wait here for a person to approve or reject them, with the rationale recorded."
        />
    }
}
