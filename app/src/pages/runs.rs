//! The Runs section: the runs the caller sees, newest first, live; filters (status, project,
//! text in the goal or id), pages by cursor, and a selection that cancels many runs at once.

use std::collections::BTreeSet;

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::components::A;
use switchyard_protocol::{BulkOutcome, RunRow};

use super::account::server_message;
use super::goal_form::GoalForm;
use super::plan_editor::PlanEditor;
use crate::server_fns::runs::{CancelRuns, runs_page};

/// Every status a run can have, in the order of its life.
const STATUSES: [&str; 8] = [
    "queued",
    "running",
    "paused",
    "awaiting_approval",
    "compensating",
    "succeeded",
    "failed",
    "cancelled",
];

fn is_final(status: &str) -> bool {
    matches!(status, "succeeded" | "failed" | "cancelled")
}

#[component]
pub fn Runs() -> impl IntoView {
    let refresh = RwSignal::new(0_u32);
    let status = RwSignal::new(String::new());
    let project = RwSignal::new(String::new());
    let text = RwSignal::new(String::new());
    // The cursors of the pages before this one; the last is this page's (`None`: the newest).
    let cursors = RwSignal::new(vec![None::<String>]);
    let selected = RwSignal::new(BTreeSet::<String>::new());
    let cancel = ServerAction::<CancelRuns>::new();
    // New runs and status changes re-read the page, without a reload.
    let live = crate::live::Live::expect();
    live.watch(switchyard_protocol::api::live::Topic::Runs);
    let runs = Resource::new(
        move || {
            (
                refresh.get(),
                live.runs_changed.get(),
                cancel.version().get(),
                status.get(),
                project.get(),
                text.get(),
                cursors.with(|c| c.last().cloned().flatten()),
            )
        },
        |(_, _, _, status, project, text, before)| {
            runs_page(Some(status), Some(project), Some(text), before)
        },
    );
    // A new filter starts from the newest page, with nothing selected.
    let refilter = move |apply: &dyn Fn()| {
        apply();
        cursors.set(vec![None]);
        selected.update(BTreeSet::clear);
    };
    // The projects to filter by, from the latest page (in the browser: the first paint has
    // "any" alone).
    let known = RwSignal::new(Vec::<String>::new());
    Effect::new(move |_| {
        if let Some(Ok(page)) = runs.get()
            && known.with_untracked(|k| *k != page.projects)
        {
            known.set(page.projects);
        }
    });
    let account = crate::shell::CurrentAccount::expect().0;
    let editing = RwSignal::new(false);
    let from_goal = RwSignal::new(false);
    view! {
        <Title text="Runs" />
        <div class="page">
            <header class="page-header page-header-row">
                <div>
                    <h1>"Runs"</h1>
                    <p class="muted">"Newest first; they change here as they happen."</p>
                </div>
                <div class="header-actions">
                    <button
                        class="ghost-button"
                        id="refresh-runs"
                        on:click=move |_| refresh.update(|n| *n += 1)
                    >
                        "Refresh"
                    </button>
                    <button
                        class="button"
                        id="new-run"
                        aria-expanded=move || editing.get().to_string()
                        on:click=move |_| editing.update(|open| *open = !*open)
                    >
                        "New run"
                    </button>
                </div>
            </header>
            <Show when=move || editing.get()>
                <div class="mode-switch" role="tablist" aria-label="Start from">
                    <button
                        role="tab"
                        id="mode-plan"
                        class="ghost-button"
                        aria-selected=move || (!from_goal.get()).to_string()
                        on:click=move |_| from_goal.set(false)
                    >
                        "From a plan"
                    </button>
                    <button
                        role="tab"
                        id="mode-goal"
                        class="ghost-button"
                        aria-selected=move || from_goal.get().to_string()
                        on:click=move |_| from_goal.set(true)
                    >
                        "From a goal"
                    </button>
                </div>
                <Show when=move || from_goal.get() fallback=|| view! { <PlanEditor /> }>
                    <GoalForm />
                </Show>
            </Show>
            <form class="filter-bar" id="runs-filters" role="search" on:submit=move |ev| ev.prevent_default()>
                <label class="inline-field">
                    <span>"Status"</span>
                    <select id="filter-status" on:change=move |ev| refilter(&|| status.set(event_target_value(&ev)))>
                        <option value="">"any"</option>
                        {STATUSES
                            .iter()
                            .map(|s| view! { <option value=*s>{s.replace('_', " ")}</option> })
                            .collect_view()}
                    </select>
                </label>
                <label class="inline-field">
                    <span>"Project"</span>
                    <select id="filter-project" on:change=move |ev| refilter(&|| project.set(event_target_value(&ev)))>
                        <option value="">"any"</option>
                        {move || {
                            known
                                .get()
                                .into_iter()
                                .map(|name| {
                                    // Rebuilt options keep the chosen one chosen.
                                    let chosen = project.get_untracked() == name;
                                    view! { <option value=name.clone() selected=chosen>{name.clone()}</option> }
                                })
                                .collect_view()
                        }}
                    </select>
                </label>
                <label class="inline-field grow">
                    <span>"Text"</span>
                    <input
                        type="search"
                        id="filter-text"
                        placeholder="words of the goal, or part of a run id"
                        on:change=move |ev| refilter(&|| text.set(event_target_value(&ev)))
                    />
                </label>
            </form>
            <BulkBar selected cancel />
            <Transition fallback=|| view! { <p class="muted">"Loading runs…"</p> }>
                {move || Suspend::new(async move {
                    let steers = account.await.is_ok_and(|a| a.may_decide());
                    match runs.await {
                        Ok(page) if page.rows.is_empty() && cursors.with(|c| c.len() == 1) => {
                            let filtered = status.with(|s| !s.is_empty())
                                || project.with(|p| !p.is_empty())
                                || text.with(|t| !t.trim().is_empty());
                            if filtered {
                                view! {
                                    <div class="card empty-card" id="runs-empty">
                                        <p>"No run matches these filters."</p>
                                    </div>
                                }
                                    .into_any()
                            } else {
                                view! {
                                    <div class="card empty-card" id="runs-empty">
                                        <p>"No runs yet."</p>
                                        <p class="muted">
                                            "Start one with New run, `switchyard run submit plan.json` or POST /api/v1/runs; it shows up here with its status."
                                        </p>
                                    </div>
                                }
                                    .into_any()
                            }
                        }
                        Ok(page) => {
                            let next = page.next.clone();
                            view! {
                                <RunTable rows=page.rows selected steers />
                                <Pager cursors next selected />
                            }
                                .into_any()
                        }
                        Err(e) => {
                            view! {
                                <p class="error-text" role="alert">
                                    {format!("Could not load runs: {}", server_message(&e))}
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

/// Older / newer pages: the cursor of each page shown so far is kept, so "Newer" goes back.
#[component]
fn Pager(
    cursors: RwSignal<Vec<Option<String>>>,
    next: Option<String>,
    selected: RwSignal<BTreeSet<String>>,
) -> impl IntoView {
    let page = move || cursors.with(Vec::len);
    let has_next = next.is_some();
    view! {
        <nav class="pager" aria-label="Pages of runs">
            <button
                class="ghost-button"
                id="page-newer"
                disabled=move || page() == 1
                on:click=move |_| {
                    cursors.update(|c| { c.pop(); });
                    selected.update(BTreeSet::clear);
                }
            >
                "← Newer"
            </button>
            <span class="muted small" id="page-number">{move || format!("Page {}", page())}</span>
            <button
                class="ghost-button"
                id="page-older"
                disabled=!has_next
                on:click=move |_| {
                    cursors.update(|c| c.push(next.clone()));
                    selected.update(BTreeSet::clear);
                }
            >
                "Older →"
            </button>
        </nav>
    }
}

/// What a selection can do: cancel every selected run, with one reason; then what became of
/// each.
#[component]
fn BulkBar(
    selected: RwSignal<BTreeSet<String>>,
    cancel: ServerAction<CancelRuns>,
) -> impl IntoView {
    let reason = RwSignal::new(String::new());
    let count = move || selected.with(BTreeSet::len);
    let outcome = move || {
        cancel.value().get().map(|answer| match answer {
            Ok(outcomes) => {
                let refused: Vec<BulkOutcome> =
                    outcomes.iter().filter(|o| o.refused.is_some()).cloned().collect();
                let done = outcomes.len() - refused.len();
                view! {
                    <div class="notice" role="status" id="bulk-outcome">
                        <p>{format!("Cancelled {done} of {}.", outcomes.len())}</p>
                        <ul>
                            {refused
                                .into_iter()
                                .map(|o| view! {
                                    <li><code>{short_id(&o.id)}</code>" — "{o.refused.unwrap_or_default()}</li>
                                })
                                .collect_view()}
                        </ul>
                    </div>
                }
                    .into_any()
            }
            Err(e) => view! { <p class="notice notice-error" role="alert">{server_message(&e)}</p> }.into_any(),
        })
    };
    view! {
        {outcome}
        <Show when=move || { count() > 0 }>
            <div class="card bulk-bar" id="bulk-bar">
                <strong>{move || format!("{} selected", count())}</strong>
                <input
                    type="text"
                    id="bulk-reason"
                    placeholder="Reason for cancelling (recorded with each run)"
                    prop:value=move || reason.get()
                    on:input=move |ev| reason.set(event_target_value(&ev))
                />
                <button
                    class="ghost-button danger"
                    id="bulk-cancel"
                    disabled=move || cancel.pending().get()
                    on:click=move |_| {
                        let ids = selected.with(|s| s.iter().cloned().collect::<Vec<_>>().join(","));
                        cancel.dispatch(CancelRuns { ids, reason: reason.get_untracked() });
                        selected.update(BTreeSet::clear);
                    }
                >
                    "Cancel selected"
                </button>
                <button class="ghost-button" on:click=move |_| selected.update(BTreeSet::clear)>
                    "Clear"
                </button>
            </div>
        </Show>
    }
}

/// The table; `steers`: whether the account may cancel (the selection boxes).
#[component]
fn RunTable(
    rows: Vec<RunRow>,
    selected: RwSignal<BTreeSet<String>>,
    steers: bool,
) -> impl IntoView {
    let open: Vec<String> = rows
        .iter()
        .filter(|r| !is_final(&r.status))
        .map(|r| r.id.clone())
        .collect();
    let all_open = {
        let open = open.clone();
        move || !open.is_empty() && selected.with(|s| open.iter().all(|id| s.contains(id)))
    };
    let select_all = steers.then(|| {
        let open = open.clone();
        view! {
            <th scope="col" class="select-col">
                <input
                    type="checkbox"
                    id="select-all"
                    aria-label="Select every run on this page that has not ended"
                    disabled=open.is_empty()
                    prop:checked=all_open.clone()
                    on:change=move |ev| {
                        let on = event_target_checked(&ev);
                        selected.update(|s| {
                            for id in &open {
                                if on { s.insert(id.clone()); } else { s.remove(id); }
                            }
                        });
                    }
                />
            </th>
        }
    });
    view! {
        <div class="card table-card">
            <table class="data-table" id="runs-table">
                <thead>
                    <tr>
                        {select_all}
                        <th scope="col">"Run"</th>
                        <th scope="col">"Status"</th>
                        <th scope="col">"Project"</th>
                        <th scope="col" class="numeric">"Events"</th>
                        <th scope="col">"Updated"</th>
                        <th scope="col">"Reason"</th>
                    </tr>
                </thead>
                <tbody>
                    {rows
                        .into_iter()
                        .map(|run| {
                            let row_id = run.id.clone();
                            let title = run.id.clone();
                            let href = format!("/runs/{}", run.id);
                            let short = short_id(&run.id);
                            let goal = run.goal.clone().unwrap_or_default();
                            let goal_title = goal.clone();
                            let check = steers.then(|| {
                                let id = run.id.clone();
                                let ended = is_final(&run.status);
                                let shown = id.clone();
                                view! {
                                    <td class="select-col">
                                        <input
                                            type="checkbox"
                                            class="select-run"
                                            aria-label=format!("Select run {}", short_id(&id))
                                            disabled=ended
                                            title=if ended { "The run has ended" } else { "Select to cancel" }
                                            prop:checked=move || selected.with(|s| s.contains(&shown))
                                            on:change=move |ev| {
                                                let on = event_target_checked(&ev);
                                                selected.update(|s| {
                                                    if on { s.insert(id.clone()); } else { s.remove(&id); }
                                                });
                                            }
                                        />
                                    </td>
                                }
                            });
                            view! {
                                <tr data-run=row_id>
                                    {check}
                                    <td>
                                        <A href=href>
                                            <code title=title>{short}</code>
                                        </A>
                                        <span class="run-goal muted" title=goal_title>{goal}</span>
                                    </td>
                                    <td>
                                        <span class=status_class(&run.status) data-status=run.status.clone()>
                                            {run.status.replace('_', " ")}
                                        </span>
                                    </td>
                                    <td class="muted">{run.project}</td>
                                    <td class="numeric">{run.events}</td>
                                    <td class="muted">{short_time(&run.updated_at)}</td>
                                    <td class="muted reason">{run.reason.unwrap_or_default()}</td>
                                </tr>
                            }
                        })
                        .collect_view()}
                </tbody>
            </table>
        </div>
    }
}

/// The last 12 characters of a UUIDv7 (its random part), enough to tell runs apart.
pub fn short_id(id: &str) -> String {
    let tail: String = id
        .chars()
        .rev()
        .take(12)
        .collect::<Vec<_>>()
        .into_iter()
        .rev()
        .collect();
    format!("…{tail}")
}

/// `2026-11-21T23:59:36.97+00:00` → `2026-11-21 23:59:36`.
fn short_time(rfc3339: &str) -> String {
    rfc3339.get(..19).unwrap_or(rfc3339).replace('T', " ")
}

pub(crate) fn status_class(status: &str) -> &'static str {
    match status {
        "succeeded" => "pill pill-ok",
        "failed" | "cancelled" => "pill pill-error",
        "awaiting_approval" | "paused" | "compensating" => "pill pill-warn",
        _ => "pill pill-info",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_times_and_statuses_read_compactly() {
        assert_eq!(
            short_id("01a2008d-169a-73f0-b661-0491eedc0fd1"),
            "…0491eedc0fd1"
        );
        assert_eq!(
            short_time("2026-11-21T23:59:36.975984831+00:00"),
            "2026-11-21 23:59:36"
        );
        assert_eq!(status_class("failed"), "pill pill-error");
        assert_eq!(status_class("running"), "pill pill-info");
    }
}
