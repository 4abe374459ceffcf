//! One run, as a control surface: its status, the controls that steer it, the plan as a graph
//! and the steps over time (both drawn on the server, so the first paint has them), every step
//! with what its agent produced and, for a step waiting for a person, the approve / reject
//! form, then the event history.
//!
//! Live without losing what a person types: the server-rendered run is read once per id, and
//! each event of the run (or a control's answer) re-reads it into a signal that the parts
//! follow; step cards are keyed by what they show, so a card whose step did not change (a
//! rationale half written) stays as it is. Outputs and errors are Markdown from agents and
//! models, rendered sanitised ([`crate::markdown`]).

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::components::A;
use leptos_router::hooks::use_params_map;
use switchyard_protocol::{PlanningView, RunDetail, StepDetail};

use super::account::server_message;
use super::decision::DecisionForm;
use super::run_controls::RunControls;
use super::run_history::RunHistory;
use super::runs::{short_id, status_class};
use crate::markdown::to_safe_html;
use crate::reread::reread_on_change;
use crate::server_fns::approvals::DecideStep;
use crate::server_fns::runs::{RerunRun, SteerRun, run_detail};

#[component]
pub fn RunPage() -> impl IntoView {
    let params = use_params_map();
    let id = Memo::new(move |_| params.read().get("id").unwrap_or_default());
    let live = crate::live::Live::expect();
    let steer = ServerAction::<SteerRun>::new();
    let decide = ServerAction::<DecideStep>::new();
    let rerun = ServerAction::<RerunRun>::new();
    // A rerun opens the new run.
    let navigate = leptos_router::hooks::use_navigate();
    Effect::new(move |_| {
        if let Some(Ok(new)) = rerun.value().get() {
            navigate(&format!("/runs/{new}"), Default::default());
        }
    });
    let events = Memo::new(move |_| live.follow(&id.get()));
    let first = Resource::new(move || id.get(), run_detail);
    // The newest reading, with the id it belongs to.
    let latest = RwSignal::new(None::<(String, RunDetail)>);
    reread_run(
        id.into(),
        move || {
            (
                events.get().with(Vec::len),
                steer.version().get(),
                decide.version().get(),
            )
        },
        latest,
    );
    let account = crate::shell::CurrentAccount::expect().0;
    // The seqs this tab received over its live connection, in order: what the resume test
    // compares with the stored log (no gap, no repeat across reconnects).
    let received = move || {
        events.get().with(|all| {
            all.iter()
                .filter_map(|e| e.get("seq").and_then(serde_json::Value::as_u64))
                .map(|seq| seq.to_string())
                .collect::<Vec<_>>()
                .join(",")
        })
    };
    view! {
        <Title text="Run" />
        <div hidden id="run-live" data-seqs=received></div>
        <div class="page">
            <Transition fallback=|| view! { <p class="muted">"Loading the run…"</p> }>
                {move || Suspend::new(async move {
                    let steers = account.await.is_ok_and(|a| a.may_decide());
                    match first.await {
                        Ok(first) => {
                            let detail = Memo::new(move |_| {
                                latest
                                    .get()
                                    .filter(|(of, _)| *of == first.id)
                                    .map(|(_, d)| d)
                                    .unwrap_or_else(|| first.clone())
                            });
                            view! { <RunView detail steer decide rerun steers /> }.into_any()
                        }
                        Err(e) => view! {
                            <header class="page-header">
                                <h1>"Run not found"</h1>
                            </header>
                            <p class="error-text" role="alert" id="run-error">{server_message(&e)}</p>
                            <A href="/runs">"All runs"</A>
                        }
                        .into_any(),
                    }
                })}
            </Transition>
        </div>
    }
}

/// In the browser: reads run `id` again into `latest` each time `changes` (its events, the
/// answers of controls) gives something new ([`reread_on_change`]), with the id it belongs to.
pub(crate) fn reread_run<T: PartialEq + 'static>(
    id: Signal<String>,
    changes: impl Fn() -> T + 'static,
    latest: RwSignal<Option<(String, RunDetail)>>,
) {
    let read = move || async move {
        let id = id.get_untracked();
        run_detail(id.clone()).await.ok().map(|detail| (id, detail))
    };
    reread_on_change(changes, read, latest);
}

/// The run; `steers`: whether the account may steer it and decide its steps.
#[component]
fn RunView(
    detail: Memo<RunDetail>,
    steer: ServerAction<SteerRun>,
    decide: ServerAction<DecideStep>,
    rerun: ServerAction<RerunRun>,
    steers: bool,
) -> impl IntoView {
    let (id, project, has_plan) =
        detail.with_untracked(|d| (d.id.clone(), d.project.clone(), !d.steps.is_empty()));
    let status = Signal::derive(move || detail.with(|d| d.status.clone()));
    let controls =
        steers.then(|| view! { <RunControls id=id.clone() status steer rerun has_plan /> });
    let lineage = move || {
        detail.with(|d| {
            let link = |id: &String| {
                let (href, short) = (format!("/runs/{id}"), short_id(id));
                view! { <A href=href attr:class="mono">{short}</A> }
            };
            let of = d
                .rerun_of
                .as_ref()
                .map(|of| view! { <span>"Runs again " {link(of)}</span> });
            let again = (!d.reruns.is_empty()).then(|| {
                view! {
                    <span>
                        "Run again as "
                        {d.reruns.iter().map(|r| view! { {link(r)} " " }).collect_view()}
                    </span>
                }
            });
            let parent = d
                .parent
                .as_ref()
                .map(|p| view! { <span id="run-parent">"Started by run " {link(p)}</span> });
            let children = (!d.children.is_empty()).then(|| {
                view! {
                    <span id="run-children">
                        "Child runs "
                        {d.children.iter().map(|c| view! { {link(c)} " " }).collect_view()}
                    </span>
                }
            });
            let workflow = d.workflow.as_ref().map(|(name, version)| {
                let href = format!("/workflows/{name}");
                let text = format!("{name} v{version}");
                view! { <span id="run-workflow">"From workflow " <A href=href>{text}</A></span> }
            });
            let any = of.is_some()
                || again.is_some()
                || parent.is_some()
                || children.is_some()
                || workflow.is_some();
            any.then(|| {
                view! {
                    <p class="muted small lineage" id="run-lineage">
                        {workflow}" "{of}" "{again}" "{parent}" "{children}
                    </p>
                }
            })
        })
    };
    let run_id = id.clone();
    view! {
        <header class="page-header">
            <p class="muted small"><A href="/runs">"Runs"</A> " / " <code>{id.clone()}</code></p>
            <h1 class="run-title">
                "Run "
                <span
                    class=move || status.with(|s| status_class(s))
                    data-status=move || status.get()
                    id="run-status"
                >
                    {move || status.get().replace('_', " ")}
                </span>
            </h1>
            <p class="muted" id="run-summary">
                {move || detail.with(|d| {
                    let mut line = format!("Project {project} · {} events", d.events);
                    if let Some(reason) = &d.reason {
                        line.push_str(" · ");
                        line.push_str(reason);
                    }
                    line
                })}
            </p>
        </header>
        {lineage}
        {controls}
        {move || decide.value().get().and_then(Result::err).map(|e| {
            view! { <p class="notice notice-error" role="alert">{server_message(&e)}</p> }
        })}
        {detail.with_untracked(|d| d.planning.clone()).map(|planning| view! { <PlanningRecord planning /> })}
        <section class="card run-graph" aria-labelledby="graph-title">
            <div class="card-head">
                <h2 id="graph-title">"Plan"</h2>
                <Legend items=GRAPH_LEGEND note="↻ retried · ⚑ needs approval · ↺ has an undo" />
            </div>
            <div class="dag-scroll" id="run-graph" inner_html=move || detail.with(|d| d.graph_svg.clone())></div>
        </section>
        <section class="card run-timeline" aria-labelledby="timeline-title">
            <div class="card-head">
                <h2 id="timeline-title">"Timeline"</h2>
                <Legend items=TIMELINE_LEGEND />
            </div>
            <div id="run-timeline" inner_html=move || detail.with(|d| d.timeline_svg.clone())></div>
        </section>
        <h2 class="section-title">"Steps"</h2>
        <ol class="step-list" id="run-steps">
            <For
                each=move || detail.with(|d| d.steps.clone())
                key=|step| {
                    (step.key.clone(), step.status.clone(), step.attempt, step.output.clone(), step.error.clone())
                }
                let:step
            >
                <StepCard step run_id=run_id.clone() decide decides=steers />
            </For>
        </ol>
        <RunHistory rows=Memo::new(move |_| detail.with(|d| d.history.clone())).into() total=Signal::derive(move || detail.with(|d| d.events)) />
    }
}

/// One step: who runs it with what, where it is, what came of it; a step waiting for a person
/// carries the decision form for those who may decide.
#[component]
fn StepCard(
    step: StepDetail,
    run_id: String,
    decide: ServerAction<DecideStep>,
    decides: bool,
) -> impl IntoView {
    let status = step.status.clone();
    let waiting = status == "awaiting_approval";
    let after =
        (!step.depends_on.is_empty()).then(|| format!("after {}", step.depends_on.join(", ")));
    let decision = (waiting && decides).then(|| {
        view! {
            <div class="step-decision">
                <DecisionForm run_id step=step.key.clone() decide />
            </div>
        }
    });
    let (key, anchor) = (step.key.clone(), format!("step-{}", step.key));
    view! {
        <li class="card step-card" data-step=key id=anchor>
            <div class="step-head">
                <strong>{step.key}</strong>
                <span class="muted small">{format!("{} · {}", step.agent, step.tool)}</span>
                <span class=status_class(&status)>{status.replace('_', " ")}</span>
                <span class="muted small">{format!("attempt {} of {}", step.attempt, step.max_attempts)}</span>
                {step.gated.then(|| view! {
                    <span class="pill pill-warn" title="At or above the run's risk threshold: a person approves it first">
                        {format!("risk {:.2}", step.risk)}
                    </span>
                })}
                {after.map(|text| view! { <span class="muted small">{text}</span> })}
            </div>
            {step.figures.map(|line| view! { <p class="muted small step-figures">{line}</p> })}
            {decision}
            {step.output.map(|markdown| {
                view! { <div class="markdown step-output" inner_html=to_safe_html(&markdown)></div> }
            })}
            {step.error.map(|markdown| {
                view! { <div class="markdown step-error" inner_html=to_safe_html(&markdown)></div> }
            })}
        </li>
    }
}

/// How the goal became this plan: the cache's answer, or each of the model's tries with its
/// prompt, raw answer, problems and figures.
#[component]
fn PlanningRecord(planning: PlanningView) -> impl IntoView {
    let tries = planning.attempts.len();
    let summary = if planning.cache_hit {
        "Planned from the cache".to_owned()
    } else {
        format!(
            "Planned by {} in {tries} {}",
            planning.model,
            if tries == 1 { "try" } else { "tries" }
        )
    };
    view! {
        <section class="card run-planning" id="run-planning" aria-labelledby="planning-title">
            <div class="card-head">
                <h2 id="planning-title">{summary}</h2>
                {planning.cache_hit.then(|| view! { <span class="pill pill-ok" id="cache-hit">"cache hit"</span> })}
            </div>
            <p class="planning-goal"><span class="muted">"Goal: "</span>{planning.goal}</p>
            {planning.cache.map(|line| view! { <p class="muted small" id="planning-cache">{line}</p> })}
            {planning
                .attempts
                .into_iter()
                .enumerate()
                .map(|(n, attempt)| {
                    let accepted = attempt.problems.is_empty();
                    view! {
                        <details class="planning-attempt" data-accepted=accepted.to_string()>
                            <summary>
                                {format!("Try {}", n + 1)}
                                {if accepted { " · accepted" } else { " · refused" }}
                                {attempt.figures.map(|f| format!(" · {f}"))}
                            </summary>
                            {(!accepted).then(|| view! {
                                <ul class="planning-problems">
                                    {attempt.problems.into_iter().map(|p| view! { <li>{p}</li> }).collect_view()}
                                </ul>
                            })}
                            {attempt
                                .prompt
                                .into_iter()
                                .map(|(role, content)| view! {
                                    <p class="muted small">{role}</p>
                                    <pre class="planning-text">{content}</pre>
                                })
                                .collect_view()}
                            <p class="muted small">"answer"</p>
                            <pre class="planning-text">{attempt.raw_output}</pre>
                        </details>
                    }
                })
                .collect_view()}
        </section>
    }
}

/// What a drawing's colours mean: a swatch of each class with its label, and a note.
#[component]
fn Legend(
    items: &'static [(&'static str, &'static str)],
    #[prop(optional)] note: &'static str,
) -> impl IntoView {
    view! {
        <ul class="legend" aria-label="Legend">
            {items
                .iter()
                .map(|(class, label)| view! { <li><span class=format!("swatch {class}")></span>{*label}</li> })
                .collect_view()}
            {(!note.is_empty()).then(|| view! { <li>{note}</li> })}
        </ul>
    }
}

/// The graph's colours, by step status.
const GRAPH_LEGEND: &[(&str, &str)] = &[
    ("s-pending", "pending"),
    ("s-leased", "running"),
    ("s-awaiting_approval", "awaiting approval"),
    ("s-succeeded", "succeeded"),
    ("s-failed", "failed"),
    ("s-compensated", "compensated"),
];

/// The timeline's bars.
const TIMELINE_LEGEND: &[(&str, &str)] = &[
    ("tl-waiting", "waiting"),
    ("tl-approval", "approval"),
    ("tl-running", "running"),
    ("tl-failed", "failed attempt"),
    ("tl-backoff", "backoff"),
    ("tl-compensation", "undo"),
];
