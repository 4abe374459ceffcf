//! The Alerts section.

use leptos::prelude::*;

use super::empty::{Placeholder, section};

#[component]
pub fn Alerts() -> impl IntoView {
    view! {
        <Placeholder
            section=section("/alerts")
            detail="There are no alert rules: the server evaluates none. Steps that need a person wait in Approvals; an admin can switch capabilities off on the Admin page."
        />
    }
}
