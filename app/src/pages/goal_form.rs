//! Starting a run from a goal written in words: the server's model plans it (or the plan
//! cache answers), the plan is validated, the run starts, and the page goes to the new run,
//! which shows how the goal was planned. Without a model the server's answer says which
//! setting to set.

use leptos::prelude::*;
use leptos_router::hooks::use_navigate;

use super::account::server_message;
use crate::server_fns::runs::StartGoal;

#[component]
pub fn GoalForm() -> impl IntoView {
    let goal = RwSignal::new(String::new());
    let start = ServerAction::<StartGoal>::new();
    let navigate = use_navigate();
    Effect::new(move |_| {
        if let Some(Ok(id)) = start.value().get() {
            navigate(&format!("/runs/{id}"), Default::default());
        }
    });
    let blank = move || goal.with(|g| g.trim().is_empty());
    view! {
        <section class="card plan-editor" id="goal-form" aria-label="New run from a goal">
            <label class="field">
                <span>"Goal: what should happen, in words; the model writes the plan"</span>
                <textarea
                    id="goal-text"
                    rows="3"
                    placeholder="e.g. Fetch the release notes and summarise them"
                    prop:value=move || goal.get()
                    on:input=move |ev| goal.set(event_target_value(&ev))
                ></textarea>
            </label>
            <div class="plan-actions">
                <button
                    class="button"
                    id="start-goal"
                    disabled=move || blank() || start.pending().get()
                    title="The model plans the goal, the plan is checked, and the run starts"
                    on:click=move |_| {
                        start.dispatch(StartGoal { goal: goal.get_untracked() });
                    }
                >
                    "Plan and start"
                </button>
            </div>
            <Show when=move || start.pending().get()>
                <p class="notice" role="status" id="goal-planning">
                    "Planning: the model is writing the plan (a cached plan for a goal like this one answers at once)…"
                </p>
            </Show>
            {move || start.value().get().and_then(Result::err).map(|e| {
                view! { <p class="notice notice-error" role="alert" id="goal-error">{server_message(&e)}</p> }
            })}
        </section>
    }
}
