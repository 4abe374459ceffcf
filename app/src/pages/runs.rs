//! The Runs section: the newest runs with their status.

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::components::A;
use switchyard_protocol::RunRow;

use super::plan_editor::PlanEditor;
use crate::server_fns::runs::recent_runs;

#[component]
pub fn Runs() -> impl IntoView {
    let refresh = RwSignal::new(0_u32);
    // New runs and status changes re-read the list, without a reload.
    let live = crate::live::Live::expect();
    live.watch(switchyard_protocol::api::live::Topic::Runs);
    let runs = Resource::new(
        move || (refresh.get(), live.runs_changed.get()),
        |_| recent_runs(),
    );
    let editing = RwSignal::new(false);
    view! {
        <Title text="Runs" />
        <div class="page">
            <header class="page-header page-header-row">
                <div>
                    <h1>"Runs"</h1>
                    <p class="muted">"The newest runs, newest first; they change here as they happen."</p>
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
                <PlanEditor />
            </Show>
            <Transition fallback=|| view! { <p class="muted">"Loading runs…"</p> }>
                {move || Suspend::new(async move {
                    match runs.await {
                        Ok(rows) if rows.is_empty() => {
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
                        Ok(rows) => view! { <RunTable rows /> }.into_any(),
                        Err(e) => {
                            view! {
                                <p class="error-text" role="alert">
                                    {format!("Could not load runs: {e}")}
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

#[component]
fn RunTable(rows: Vec<RunRow>) -> impl IntoView {
    view! {
        <div class="card table-card">
            <table class="data-table" id="runs-table">
                <thead>
                    <tr>
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
                            view! {
                                <tr data-run=row_id>
                                    <td>
                                        <A href=href>
                                            <code title=title>{short}</code>
                                        </A>
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
