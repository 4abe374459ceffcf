//! Starting a run from a plan written in the browser: a JSON editor, checked on the server
//! against the catalog and limits the engine runs with, every problem shown under the step
//! and field it names before anything is submitted; a plan without problems starts and the
//! page goes to the new run.

use std::collections::BTreeMap;

use leptos::prelude::*;
use leptos_router::hooks::use_navigate;
use switchyard_protocol::PlanIssue;

use super::account::server_message;
use crate::server_fns::runs::{CheckPlan, StartRun};

/// What the editor starts with: a small plan that runs as it is.
const EXAMPLE: &str = r#"{
  "steps": [
    {"key": "fetch", "agent": "default", "tool": "noop", "input": {"note": "first"}},
    {"key": "report", "agent": "default", "tool": "noop", "depends_on": ["fetch"],
     "input": {"note": "{{steps.fetch.output.note}}"}}
  ]
}"#;

#[component]
pub fn PlanEditor() -> impl IntoView {
    let text = RwSignal::new(EXAMPLE.to_owned());
    let check = ServerAction::<CheckPlan>::new();
    let start = ServerAction::<StartRun>::new();
    // Start = check, then start only when the check found nothing.
    let starting = RwSignal::new(false);
    Effect::new(move |_| {
        let Some(Ok(issues)) = check.value().get() else {
            return;
        };
        if starting.get_untracked() {
            starting.set(false);
            if issues.is_empty() {
                start.dispatch(StartRun {
                    plan: text.get_untracked(),
                });
            }
        }
    });
    let navigate = use_navigate();
    Effect::new(move |_| {
        if let Some(Ok(id)) = start.value().get() {
            navigate(&format!("/runs/{id}"), Default::default());
        }
    });
    let busy = move || check.pending().get() || start.pending().get();
    view! {
        <section class="card plan-editor" id="plan-editor" aria-label="New run from a plan">
            <label class="field">
                <span>"Plan (JSON): steps with key, agent, tool, input, depends_on …"</span>
                <textarea
                    id="plan-text"
                    rows="12"
                    spellcheck="false"
                    prop:value=move || text.get()
                    on:input=move |ev| text.set(event_target_value(&ev))
                ></textarea>
            </label>
            <div class="plan-actions">
                <button
                    class="ghost-button"
                    id="check-plan"
                    disabled=busy
                    on:click=move |_| {
                        check.dispatch(CheckPlan { plan: text.get_untracked() });
                    }
                >
                    "Check"
                </button>
                <button
                    class="button"
                    id="start-run"
                    disabled=busy
                    on:click=move |_| {
                        starting.set(true);
                        check.dispatch(CheckPlan { plan: text.get_untracked() });
                    }
                >
                    "Start run"
                </button>
            </div>
            {move || check.value().get().map(|answer| match answer {
                Ok(issues) if issues.is_empty() => {
                    view! {
                        <p class="notice notice-ok" id="plan-ok">
                            "No problems: the engine takes this plan as it is."
                        </p>
                    }
                        .into_any()
                }
                Ok(issues) => view! { <PlanIssues issues /> }.into_any(),
                Err(e) => {
                    view! { <p class="notice notice-error" role="alert">{server_message(&e)}</p> }
                        .into_any()
                }
            })}
            {move || start.value().get().and_then(Result::err).map(|e| {
                view! { <p class="notice notice-error" role="alert">{server_message(&e)}</p> }
            })}
        </section>
    }
}

/// One step's problems: its key as written, and each `(field, message)`.
type StepProblems = (Option<String>, Vec<(String, String)>);

/// Problems grouped under their step (in plan order), the plan's own first.
#[component]
fn PlanIssues(issues: Vec<PlanIssue>) -> impl IntoView {
    let count = issues.len();
    let mut by_step: BTreeMap<Option<usize>, StepProblems> = BTreeMap::new();
    for issue in issues {
        let entry = by_step.entry(issue.index).or_default();
        if entry.0.is_none() {
            entry.0 = issue.step;
        }
        entry.1.push((issue.field, issue.message));
    }
    view! {
        <div class="plan-issues" id="plan-issues" role="alert">
            <p class="error-text">
                {format!(
                    "{count} problem{} — nothing was submitted.",
                    if count == 1 { "" } else { "s" },
                )}
            </p>
            <ul>
                {by_step
                    .into_iter()
                    .map(|(index, (key, problems))| {
                        let place = match (index, key) {
                            (Some(i), Some(key)) => format!("Step {} · {key}", i + 1),
                            (Some(i), None) => format!("Step {}", i + 1),
                            (None, _) => "The plan".to_owned(),
                        };
                        view! {
                            <li
                                class="plan-issue-step"
                                data-index=index.map(|i| i.to_string()).unwrap_or_default()
                            >
                                <p class="plan-issue-where">{place}</p>
                                <ul>
                                    {problems
                                        .into_iter()
                                        .map(|(field, message)| {
                                            let shown = field.clone();
                                            view! {
                                                <li class="plan-issue" data-field=field>
                                                    <code>{shown}</code>
                                                    ": "
                                                    {message}
                                                </li>
                                            }
                                        })
                                        .collect_view()}
                                </ul>
                            </li>
                        }
                    })
                    .collect_view()}
            </ul>
        </div>
    }
}
