//! The Agents section.

use leptos::prelude::*;

use super::empty::{Placeholder, section};

#[component]
pub fn Agents() -> impl IntoView {
    view! {
        <Placeholder
            section=section("/agents")
            detail="The server keeps no list of agents: each step of a plan names its agent (a run's page shows them), and external agents report through POST /api/v1/events."
        />
    }
}
