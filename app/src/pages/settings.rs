//! The Settings section.

use leptos::prelude::*;

use super::empty::{Placeholder, section};

#[component]
pub fn Settings() -> impl IntoView {
    view! {
        <Placeholder
            section=section("/settings")
            detail="Nothing is set from this page. The server reads flags, SWITCHYARD_* variables and its config file (`switchyard config` prints the result); users, projects, API keys and kill switches are on the Admin page."
        />
    }
}
