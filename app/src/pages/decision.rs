//! Approve or reject a step that waits for a person, with the rationale the decision needs:
//! the approvals inbox and a run's page both show this form.

use leptos::prelude::*;

use crate::server_fns::approvals::DecideStep;

/// The rationale box and the two buttons for step `step` of run `run_id`; both buttons stay
/// off until a rationale is written.
#[component]
pub fn DecisionForm(
    run_id: String,
    step: String,
    decide: ServerAction<DecideStep>,
) -> impl IntoView {
    let rationale = RwSignal::new(String::new());
    let blank = move || rationale.with(|r| r.trim().is_empty());
    let submit = move |approve: bool| {
        decide.dispatch(DecideStep {
            run_id: run_id.clone(),
            step: step.clone(),
            approve,
            rationale: rationale.get_untracked(),
        });
    };
    let approve = submit.clone();
    let reject = submit;
    view! {
        <label class="field">
            <span>"Rationale (required)"</span>
            <textarea
                rows="2"
                class="approval-rationale"
                placeholder="Why: it is recorded with the decision"
                prop:value=move || rationale.get()
                on:input=move |ev| rationale.set(event_target_value(&ev))
            ></textarea>
        </label>
        <div class="approval-actions">
            <button
                class="button"
                data-action="approve"
                title="Approve: the step runs (write a rationale first)"
                disabled=move || blank() || decide.pending().get()
                on:click=move |_| approve(true)
            >
                "Approve"
            </button>
            <button
                class="ghost-button danger"
                data-action="reject"
                title="Reject: the run fails and compensates (write a rationale first)"
                disabled=move || blank() || decide.pending().get()
                on:click=move |_| reject(false)
            >
                "Reject"
            </button>
        </div>
    }
}
