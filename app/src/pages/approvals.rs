//! The Approvals section: every step at or above the risk threshold that waits for a person,
//! in the caller's projects, live (a new request appears, one decided elsewhere goes), each
//! with its input and an approve / reject form that requires a rationale.

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::components::A;
use switchyard_protocol::api::live::Topic;
use switchyard_protocol::api::runs::PendingApproval;

use super::account::server_message;
use super::decision::DecisionForm;
use super::runs::short_id;
use crate::live::Live;
use crate::reread::reread_on_change;
use crate::server_fns::approvals::{DecideStep, pending_approvals};

#[component]
pub fn Approvals() -> impl IntoView {
    let live = Live::expect();
    live.watch(Topic::Approvals);
    let decide = ServerAction::<DecideStep>::new();
    let account = crate::shell::CurrentAccount::expect().0;
    // Read once on the server (the first paint lists them); then, in the browser, read again
    // into `latest` after each change. Rows are keyed by run and step, so a card whose step
    // still waits stays as it is (a rationale half written survives another arriving).
    let first = Resource::new(|| (), |_| pending_approvals());
    let latest = RwSignal::new(None::<Vec<PendingApproval>>);
    reread_on_change(
        move || (live.approvals_changed.get(), decide.version().get()),
        || async { pending_approvals().await.ok() },
        latest,
    );
    view! {
        <Title text="Approvals" />
        <div class="page">
            <header class="page-header">
                <h1>"Approvals"</h1>
                <p class="muted">
                    "Steps at or above their run's risk threshold wait here for a person. The decision and its rationale are recorded in the run's log and the audit log."
                </p>
            </header>
            {move || {
                decide
                    .value()
                    .get()
                    .and_then(Result::err)
                    .map(|e| {
                        view! {
                            <p class="notice notice-error" role="alert">{server_message(&e)}</p>
                        }
                    })
            }}
            <Transition fallback=|| view! { <p class="muted">"Loading approvals…"</p> }>
                {move || Suspend::new(async move {
                    let decides = account.await.is_ok_and(|a| a.may_decide());
                    match first.await {
                        Ok(first) => {
                            let list = Memo::new(move |_| latest.get().unwrap_or_else(|| first.clone()));
                            view! { <ApprovalList list decide decides /> }.into_any()
                        }
                        Err(e) => {
                            view! {
                                <p class="error-text" role="alert">
                                    {format!("Could not load approvals: {}", server_message(&e))}
                                </p>
                            }
                                .into_any()
                        }
                    }
                })}
            </Transition>
        </div>
    }
}

/// The waiting steps, or a note that nothing waits.
#[component]
fn ApprovalList(
    list: Memo<Vec<PendingApproval>>,
    decide: ServerAction<DecideStep>,
    decides: bool,
) -> impl IntoView {
    let count = move || list.with(Vec::len);
    view! {
        <Show
            when=move || { count() > 0 }
            fallback=|| view! {
                <div class="card empty-card" id="approvals-empty">
                    <p>"Nothing is waiting for a person."</p>
                    <p class="muted">
                        "A step whose risk is at or above its run's threshold appears here the moment it is ready to run."
                    </p>
                </div>
            }
        >
            <p class="muted" id="approvals-count">
                {move || {
                    let n = count();
                    format!("{n} step{} waiting.", if n == 1 { "" } else { "s" })
                }}
            </p>
            <ul class="approval-list" id="approvals-list">
                <For
                    each=move || list.get()
                    key=|item| (item.run_id.clone(), item.step.clone())
                    let(item)
                >
                    <ApprovalCard item decide decides />
                </For>
            </ul>
        </Show>
    }
}

/// One waiting step. `decides`: whether the account may approve or reject (viewers see what
/// waits, not the controls; the server refuses them either way).
#[component]
fn ApprovalCard(
    item: PendingApproval,
    decide: ServerAction<DecideStep>,
    decides: bool,
) -> impl IntoView {
    let input = serde_json_pretty(&item.input);
    let href = format!("/runs/{}", item.run_id);
    let risk_class = if item.risk >= 0.9 {
        "pill pill-error"
    } else {
        "pill pill-warn"
    };
    // `2026-12-06T23:41:07.123Z` → "waiting since 2026-12-06 23:41 UTC".
    let waiting = item.waiting_since.clone().map(|at| {
        let minute: String = at.chars().take(16).collect();
        (
            format!("waiting since {} UTC", minute.replace('T', " ")),
            at,
        )
    });
    let PendingApproval {
        run_id,
        step,
        agent,
        tool,
        risk,
        ..
    } = item;
    let (run_title, short) = (run_id.clone(), short_id(&run_id));
    view! {
        <li class="card approval-card" data-run=run_id.clone() data-step=step.clone()>
            <div class="approval-head">
                <div>
                    <p class="approval-title">
                        <code>{step.clone()}</code>
                        " in run "
                        <A href=href attr:class="mono" attr:title=run_title>
                            {short}
                        </A>
                    </p>
                    <p class="muted">
                        {format!("agent {agent} · tool {tool}")}
                        {waiting
                            .map(|(text, iso)| {
                                view! {
                                    " · "
                                    <time class="approval-since" datetime=iso>{text}</time>
                                }
                            })}
                    </p>
                </div>
                <span class=risk_class title="Risk: 0 harmless, 1 irreversible">
                    {format!("risk {risk:.2}")}
                </span>
            </div>
            <details class="approval-input">
                <summary>"Input"</summary>
                <pre>{input}</pre>
            </details>
            {if decides {
                view! { <DecisionForm run_id=run_id.clone() step=step.clone() decide /> }
                    .into_any()
            } else {
                view! {
                    <p class="muted approval-viewer">
                        "Your role cannot decide: an operator or an admin approves or rejects."
                    </p>
                }
                    .into_any()
            }}
        </li>
    }
}

/// A step's input as indented JSON.
fn serde_json_pretty(value: &serde_json::Value) -> String {
    serde_json::to_string_pretty(value).unwrap_or_else(|_| value.to_string())
}
