//! The Datasets section: the tables people checked and wrote (the orchestrator panel's data
//! mode, or `POST /api/v1/datasets`), searchable by name; and one dataset's page: its
//! columns with their kinds and scores, and its rows read back from the tiered store, a page
//! at a time.

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::components::A;
use leptos_router::hooks::use_params_map;
use switchyard_protocol::dataset::{DatasetStatus, DatasetView};

use super::account::server_message;
use crate::figures::{bytes, grouped, percent};
use crate::server_fns::datasets::{ROWS_PER_PAGE, dataset, datasets, read_dataset_rows};
use crate::shell::data_mode::ColumnTable;

#[component]
pub fn Datasets() -> impl IntoView {
    let filter = RwSignal::new(String::new());
    // A dataset written from the panel shows here without a reload.
    let written = use_context::<crate::shell::data_mode::DataState>().map(|d| d.changed);
    let list = Resource::new(
        move || (filter.get(), written.map(|w| w.get())),
        |(text, _)| datasets(text),
    );
    view! {
        <Title text="Datasets" />
        <div class="page">
            <header class="page-header page-header-row">
                <div>
                    <h1>"Datasets"</h1>
                    <p class="muted">
                        "Tables checked and kept in the store. Drop a CSV, JSON or JSONL file in the "
                        "orchestrator panel's Data mode, or send it to "
                        <code>"POST /api/v1/datasets/check"</code> "."
                    </p>
                </div>
                <input
                    type="search"
                    id="datasets-search"
                    placeholder="Find by name"
                    aria-label="Find datasets by name"
                    prop:value=move || filter.get()
                    on:input=move |ev| filter.set(event_target_value(&ev))
                />
            </header>
            <Transition fallback=|| view! { <p class="muted">"Reading…"</p> }>
                {move || {
                    list.get()
                        .map(|found| match found {
                            Ok(found) if found.is_empty() => {
                                view! {
                                    <p class="muted" id="datasets-empty">
                                        {if filter.with(String::is_empty) {
                                            "No datasets yet: open the orchestrator panel (]), pick Data and drop a file."
                                        } else {
                                            "No dataset matches."
                                        }}
                                    </p>
                                }
                                    .into_any()
                            }
                            Ok(found) => view! { <DatasetTable found /> }.into_any(),
                            Err(e) => {
                                view! { <p class="error-text">{server_message(&e)}</p> }.into_any()
                            }
                        })
                }}
            </Transition>
        </div>
    }
}

#[component]
fn DatasetTable(found: Vec<DatasetView>) -> impl IntoView {
    view! {
        <div class="table-scroll">
            <table class="data-table" id="datasets-table">
                <thead>
                    <tr>
                        <th scope="col">"Name"</th>
                        <th scope="col">"Project"</th>
                        <th scope="col">"Status"</th>
                        <th scope="col">"Rows"</th>
                        <th scope="col">"Columns"</th>
                        <th scope="col">"Valid"</th>
                        <th scope="col">"Complete"</th>
                        <th scope="col">"By"</th>
                    </tr>
                </thead>
                <tbody>
                    {found
                        .into_iter()
                        .map(|d| {
                            view! {
                                <tr>
                                    <th scope="row">
                                        <A href=format!("/datasets/{}", d.id)>{d.name.clone()}</A>
                                    </th>
                                    <td>{d.project.clone()}</td>
                                    <td><StatusChip status=d.status /></td>
                                    <td>{grouped(d.rows_written)}</td>
                                    <td>{d.columns.len()}</td>
                                    <td>{percent(d.scores.validity)}</td>
                                    <td>{percent(d.scores.completeness)}</td>
                                    <td class="muted">{d.created_by.clone()}</td>
                                </tr>
                            }
                        })
                        .collect_view()}
                </tbody>
            </table>
        </div>
    }
}

#[component]
fn StatusChip(status: DatasetStatus) -> impl IntoView {
    let class = match status {
        DatasetStatus::Ready => "pill pill-ok",
        DatasetStatus::Writing => "pill pill-info",
        DatasetStatus::Failed => "pill pill-error",
    };
    view! { <span class=class>{status.as_str()}</span> }
}

#[component]
pub fn DatasetPage() -> impl IntoView {
    let params = use_params_map();
    let id = move || params.with(|p| p.get("id").unwrap_or_default());
    let found = Resource::new(id, dataset);
    let offset = RwSignal::new(0_u64);
    let rows = Resource::new(
        move || (id(), offset.get()),
        |(id, at)| read_dataset_rows(id, at),
    );
    view! {
        <Title text="Dataset" />
        <div class="page">
            <Transition fallback=|| view! { <p class="muted">"Reading…"</p> }>
                {move || {
                    found
                        .get()
                        .map(|found| match found {
                            Ok(d) => view! { <DatasetHeader d /> }.into_any(),
                            Err(e) => {
                                view! {
                                    <h1>"Dataset"</h1>
                                    <p class="error-text">{server_message(&e)}</p>
                                }
                                    .into_any()
                            }
                        })
                }}
            </Transition>
            <h2 class="section-title">"Rows"</h2>
            <Transition fallback=|| view! { <p class="muted">"Reading…"</p> }>
                {move || {
                    rows.get()
                        .map(|rows| match rows {
                            Ok(page) if page.rows.is_empty() => {
                                view! { <p class="muted">"No rows."</p> }.into_any()
                            }
                            Ok(page) => {
                                let columns: Vec<String> = page.rows[0].keys().cloned().collect();
                                let first = page.offset;
                                let last = page.offset + page.rows.len() as u64;
                                let total = page.total;
                                view! {
                                    <div class="table-scroll">
                                        <table class="data-table data-preview" id="dataset-rows">
                                            <thead>
                                                <tr>
                                                    <th scope="col">"#"</th>
                                                    {columns
                                                        .iter()
                                                        .map(|c| view! { <th scope="col">{c.clone()}</th> })
                                                        .collect_view()}
                                                </tr>
                                            </thead>
                                            <tbody>
                                                {page
                                                    .rows
                                                    .iter()
                                                    .enumerate()
                                                    .map(|(i, row)| {
                                                        view! {
                                                            <tr>
                                                                <td class="muted">{first + i as u64 + 1}</td>
                                                                {columns
                                                                    .iter()
                                                                    .map(|c| view! { <td>{shown(row.get(c))}</td> })
                                                                    .collect_view()}
                                                            </tr>
                                                        }
                                                    })
                                                    .collect_view()}
                                            </tbody>
                                        </table>
                                    </div>
                                    <nav class="pager" aria-label="Pages of rows">
                                        <span class="muted small" id="dataset-rows-range">
                                            "Rows " {grouped(first + 1)} "–" {grouped(last)} " of "
                                            {grouped(total)}
                                        </span>
                                        <button
                                            class="ghost-button"
                                            disabled={first == 0}
                                            on:click=move |_| {
                                                offset.set(first.saturating_sub(ROWS_PER_PAGE as u64))
                                            }
                                        >
                                            "Previous"
                                        </button>
                                        <button
                                            class="ghost-button"
                                            id="dataset-rows-next"
                                            disabled={last >= total}
                                            on:click=move |_| offset.set(last)
                                        >
                                            "Next"
                                        </button>
                                    </nav>
                                }
                                    .into_any()
                            }
                            Err(e) => {
                                view! { <p class="error-text">{server_message(&e)}</p> }.into_any()
                            }
                        })
                }}
            </Transition>
        </div>
    }
}

/// A stored value as a cell shows it: text without quotes, empty for `null`.
fn shown(value: Option<&serde_json::Value>) -> String {
    match value {
        None | Some(serde_json::Value::Null) => String::new(),
        Some(serde_json::Value::String(text)) => text.clone(),
        Some(other) => other.to_string(),
    }
}

#[component]
fn DatasetHeader(d: DatasetView) -> impl IntoView {
    view! {
        <Title text=format!("Dataset {}", d.name) />
        <header class="page-header">
            <p class="muted small"><A href="/datasets">"Datasets"</A> " / " {d.project.clone()}</p>
            <h1 id="dataset-name">{d.name.clone()} " " <StatusChip status=d.status /></h1>
            <p class="muted">
                {grouped(d.rows_written)} " rows written"
                {(d.rows_skipped > 0).then(|| format!(" ({} left out with problems)", grouped(d.rows_skipped)))}
                " · " {d.format.as_str().to_uppercase()}
                {d.file_name.clone().map(|f| format!(" · from {f}"))} " · " {bytes(d.bytes)}
                " · by " {d.created_by.clone()}
                {d.key.clone().map(|k| format!(" · key {k}"))}
            </p>
            {d.error.clone().map(|e| view! { <p class="error-text">{e}</p> })}
        </header>
        <h2 class="section-title">"Columns"</h2>
        <ColumnTable id="dataset-columns" columns=d.columns.clone() />
    }
}
