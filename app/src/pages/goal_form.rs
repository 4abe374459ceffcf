//! Starting a run from a goal written in words: the server's model plans it (or the plan
//! cache answers), the plan is validated, the run starts, and the page goes to the new run,
//! which shows how the goal was planned. While it plans, the tab's live socket follows the
//! planning: the cache's answer, the model's answer as it writes it, each try refused and
//! why. Without a model the server's answer says which setting to set.

use leptos::prelude::*;
use leptos_router::hooks::use_navigate;
use switchyard_protocol::api::runs::{PlanningProgress, PlanningStage};

use super::account::server_message;
use crate::live::Live;
use crate::server_fns::runs::StartGoal;

#[component]
pub fn GoalForm() -> impl IntoView {
    let live = Live::expect();
    let goal = RwSignal::new(String::new());
    // The planning id of the goal last sent.
    let asked = RwSignal::new(String::new());
    let start = ServerAction::<StartGoal>::new();
    let navigate = use_navigate();
    Effect::new(move |_| {
        if let Some(Ok(id)) = start.value().get() {
            navigate(&format!("/runs/{id}"), Default::default());
        }
    });
    let blank = move || goal.with(|g| g.trim().is_empty());
    let progress = move || {
        let asked = asked.get();
        live.planning.with(|p| {
            p.as_ref()
                .filter(|(id, _)| *id == asked)
                .map(|(_, progress)| progress.clone())
        })
    };
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
                        let id = Live::new_planning_id();
                        live.follow_planning(&id);
                        asked.set(id.clone());
                        start.dispatch(StartGoal {
                            goal: goal.get_untracked(),
                            planning: Some(id),
                        });
                    }
                >
                    "Plan and start"
                </button>
            </div>
            <Show when=move || start.pending().get()>
                {move || match progress() {
                    Some(progress) => planning_view(progress, "goal-planning").into_any(),
                    None => view! {
                        <div class="notice planning-progress" role="status" id="goal-planning" data-stage="sent">
                            <p class="planning-headline">"Planning: the goal is on its way to the model…"</p>
                        </div>
                    }
                    .into_any(),
                }}
            </Show>
            {move || start.value().get().and_then(Result::err).map(|e| {
                view! { <p class="notice notice-error" role="alert" id="goal-error">{server_message(&e)}</p> }
            })}
        </section>
    }
}

/// What one state of the planning says: where it stands, the cache's answer, the tries
/// refused and why, and the model's answer so far; `dom_id` names the box.
pub(crate) fn planning_view(progress: PlanningProgress, dom_id: &'static str) -> impl IntoView {
    let stage = stage_name(progress.stage);
    let headline = headline(&progress);
    let cache = match (progress.cache_hit, progress.stage) {
        (Some(false), _) => "Plan cache: no plan yet for a goal like this one".to_owned(),
        _ => String::new(),
    };
    let refused = progress
        .refused
        .iter()
        .enumerate()
        .map(|(i, problems)| {
            let text = format!("Attempt {} refused: {}", i + 1, problems.join("; "));
            view! { <li>{text}</li> }
        })
        .collect_view();
    let answer = progress.answer;
    view! {
        <div class="notice planning-progress" role="status" id=dom_id data-stage=stage>
            <p class="planning-headline">{headline}</p>
            <p class="planning-cache muted">{cache}</p>
            <ul class="planning-refused">{refused}</ul>
            <pre class="planning-answer" aria-label="The model's answer so far">{answer}</pre>
        </div>
    }
}

fn stage_name(stage: PlanningStage) -> &'static str {
    match stage {
        PlanningStage::Cache => "cache",
        PlanningStage::Writing => "writing",
        PlanningStage::Checking => "checking",
        PlanningStage::Planned => "planned",
        PlanningStage::Failed => "failed",
    }
}

fn headline(p: &PlanningProgress) -> String {
    let attempt = format!("Attempt {} of {}", p.attempt, p.max_attempts);
    match p.stage {
        PlanningStage::Cache => "Looking in the plan cache for a goal like this one…".into(),
        PlanningStage::Writing => format!(
            "{attempt}: {} is writing the plan · {} tokens",
            p.model, p.tokens
        ),
        PlanningStage::Checking => format!(
            "{attempt}: {} tokens written; checking the plan against the tools and limits…",
            p.tokens
        ),
        PlanningStage::Planned if p.cache_hit == Some(true) => format!(
            "The plan cache answered (similarity {:.2}): no model call; starting the run…",
            p.similarity.unwrap_or(1.0)
        ),
        PlanningStage::Planned => format!(
            "Planned by {} in {} attempt(s), {} tokens: starting the run…",
            p.model, p.attempt, p.tokens
        ),
        PlanningStage::Failed => format!(
            "Planning failed: {}",
            p.error.as_deref().unwrap_or("no valid plan")
        ),
    }
}
