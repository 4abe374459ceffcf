//! A task's run inside the conversation: its status, the plan as a small graph recoloured
//! live, each step waiting for a person as a card with Approve / Reject in place, the final
//! steps' outputs once the run has ended, and a link to the run's page.
//!
//! Live the same way as the run's page: the tab's socket follows the run's events (while the
//! run has not ended), and each change re-reads the run (one reading at a time). Approval cards are keyed by step, so a
//! rationale half written survives the run moving on elsewhere.

use leptos::prelude::*;
use leptos_router::components::A;
use switchyard_protocol::{RunDetail, StepDetail};

use crate::live::Live;
use crate::markdown::to_safe_html;
use crate::pages::{DecisionForm, reread_run, server_message, short_id, status_class};
use crate::server_fns::approvals::DecideStep;
use crate::server_fns::runs::run_detail;

/// Statuses after which a run does nothing more.
fn ended(status: &str) -> bool {
    matches!(status, "succeeded" | "failed" | "cancelled")
}

#[component]
pub fn TaskRun(run_id: String) -> impl IntoView {
    let live = Live::expect();
    let decide = ServerAction::<DecideStep>::new();
    let id = Signal::stored(run_id.clone());
    let first = LocalResource::new(move || run_detail(id.get()));
    // The run's events, followed only while it can still change: a conversation full of
    // ended runs reads each once (a run followed late still gets every event from its first).
    let events = RwSignal::new(None::<RwSignal<Vec<serde_json::Value>>>);
    let followed = run_id.clone();
    Effect::new(move |_| {
        let running = first
            .get()
            .and_then(Result::ok)
            .is_some_and(|d| !ended(&d.status));
        if running && events.get_untracked().is_none() {
            events.set(Some(live.follow(&followed)));
        }
    });
    let latest = RwSignal::new(None::<(String, RunDetail)>);
    reread_run(
        id,
        move || {
            (
                events.get().map(|e| e.with(Vec::len)),
                decide.version().get(),
            )
        },
        latest,
    );
    let detail = Memo::new(move |_| {
        latest
            .get()
            .map(|(_, d)| d)
            .or_else(|| first.get().and_then(Result::ok))
    });
    let status = move || detail.with(|d| d.as_ref().map(|d| d.status.clone()));
    let waiting = move || {
        detail.with(|d| {
            d.iter()
                .flat_map(|d| &d.steps)
                .filter(|s| s.status == "awaiting_approval")
                .cloned()
                .collect::<Vec<_>>()
        })
    };
    let href = format!("/runs/{run_id}");
    let short = short_id(&run_id);
    let run = run_id.clone();
    view! {
        <div class="task-run" data-run=run_id.clone() data-status=move || status().unwrap_or_default()>
            <div class="task-run-head">
                {move || status().map(|s| view! {
                    <span class=status_class(&s) data-status=s.clone()>{s.replace('_', " ")}</span>
                })}
                <A href=href attr:class="task-run-link" attr:title="Open the run's page">
                    "Run " <span class="mono">{short}</span> " →"
                </A>
            </div>
            {move || first.get().and_then(Result::err).map(|e| view! {
                <p class="error-text small">{server_message(&e)}</p>
            })}
            <div
                class="dag-scroll task-graph"
                aria-label="The run's plan"
                inner_html=move || detail.with(|d| d.as_ref().map(|d| d.graph_svg.clone()).unwrap_or_default())
            ></div>
            <For each=waiting key=|step| step.key.clone() let(step)>
                <ApprovalCard step run_id=run.clone() decide />
            </For>
            {move || decide.value().get().and_then(Result::err).map(|e| view! {
                <p class="notice notice-error" role="alert">{server_message(&e)}</p>
            })}
            {move || detail.with(|d| d.as_ref().filter(|d| ended(&d.status)).map(outcome))}
        </div>
    }
}

/// A step waiting for a person, with the decision form.
#[component]
fn ApprovalCard(
    step: StepDetail,
    run_id: String,
    decide: ServerAction<DecideStep>,
) -> impl IntoView {
    let what = format!(
        "{} · {} · {} · risk {:.2}",
        step.key, step.agent, step.tool, step.risk
    );
    let key = step.key.clone();
    view! {
        <div class="approval-card task-approval" data-step=key>
            <p class="approval-title"><strong>"Waits for your approval"</strong></p>
            <p class="muted small">{what}</p>
            <DecisionForm run_id step=step.key decide />
        </div>
    }
}

/// How an ended run came out: its reason, and what its final steps (those no other step
/// waits for) produced.
fn outcome(detail: &RunDetail) -> impl IntoView + use<> {
    let finals = detail.steps.iter().filter(|step| {
        !detail
            .steps
            .iter()
            .any(|other| other.depends_on.contains(&step.key))
    });
    let outputs = finals
        .filter_map(|step| {
            let text = step.output.as_ref().or(step.error.as_ref())?;
            let (key, label, html) = (step.key.clone(), step.key.clone(), to_safe_html(text));
            Some(view! {
                <div class="task-output" data-step=key>
                    <p class="muted small">{label}</p>
                    <div class="markdown" inner_html=html></div>
                </div>
            })
        })
        .collect_view();
    let reason = detail
        .reason
        .clone()
        .map(|r| view! { <p class="muted small task-reason">{r}</p> });
    view! { {reason} {outputs} }
}
