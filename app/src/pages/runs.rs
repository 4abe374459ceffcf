//! The Runs section.

use leptos::prelude::*;

use super::empty::{Placeholder, section};

#[component]
pub fn Runs() -> impl IntoView {
    view! {
        <Placeholder
            section=section("/runs")
            detail="Runs appear here once the orchestrator is running: each goal, its plan as a DAG, and every step's status, attempts and output."
        />
    }
}
