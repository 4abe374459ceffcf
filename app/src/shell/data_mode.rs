//! The panel's data mode: drop (or pick) a CSV, JSON or JSONL file, or paste a table into the
//! prompt; the server checks it as it arrives and answers with a preview, a kind per column,
//! the rows with problems and the quality scores. Nothing is written until the person
//! confirms; then the rows that passed go into the store as a named dataset, with a progress
//! bar. Below: the datasets the person sees, searchable.
//!
//! The file is sent as it is read (a streamed `POST /api/v1/datasets/check`, so a file of
//! hundreds of megabytes never sits in the tab's memory); everything else is server functions.

use leptos::prelude::*;
use leptos_router::components::A;
use switchyard_protocol::dataset::{
    DatasetCheck, DatasetColumn, DatasetStatus, DatasetView, Format, Scores,
};

use crate::figures::{bytes, grouped, percent};
use crate::pages::server_message;
use crate::server_fns::datasets::{datasets, recheck_upload, write_dataset};

/// What the data mode is doing.
#[derive(Clone, Copy)]
pub struct DataState {
    /// A file or text on its way to the check (its name).
    pub sending: RwSignal<Option<String>>,
    pub check: RwSignal<Option<DatasetCheck>>,
    pub problem: RwSignal<Option<String>>,
    /// The dataset being written, or just written.
    pub written: RwSignal<Option<DatasetView>>,
    /// Bumped when a dataset is written or discarded: the list reads again.
    pub changed: RwSignal<u32>,
}

impl DataState {
    /// The shell's one data mode (the panel writes, the Datasets page follows).
    pub fn expect() -> Self {
        expect_context()
    }

    pub fn new() -> Self {
        Self {
            sending: RwSignal::new(None),
            check: RwSignal::new(None),
            problem: RwSignal::new(None),
            written: RwSignal::new(None),
            changed: RwSignal::new(0),
        }
    }

    /// Sends pasted `text` to the check, its format guessed from its first character.
    pub fn send_text(self, text: String) {
        let format = Format::guess(&text);
        let query = format!("format={}", format.as_str());
        #[cfg(feature = "hydrate")]
        self.send(
            "pasted text".to_owned(),
            query,
            wasm_bindgen::JsValue::from(text),
        );
        #[cfg(not(feature = "hydrate"))]
        let _ = (text, query);
    }

    #[cfg(feature = "hydrate")]
    fn send_file(self, file: web_sys::File) {
        let name = file.name();
        let mut query = format!("file_name={}", percent_encoded(&name));
        if Format::from_file_name(&name).is_none() {
            // A file without a known extension: read as CSV (the check says when it is not).
            query.push_str("&format=csv");
        }
        self.send(name, query, wasm_bindgen::JsValue::from(file));
    }

    #[cfg(feature = "hydrate")]
    fn send(self, name: String, query: String, body: wasm_bindgen::JsValue) {
        self.sending.set(Some(name));
        self.problem.set(None);
        self.written.set(None);
        if let Some(old) = self.check.get_untracked() {
            self.discard(old.upload);
        }
        leptos::task::spawn_local(async move {
            let answer = upload(&query, body).await;
            self.sending.set(None);
            match answer {
                Ok(check) => self.check.set(Some(check)),
                Err(message) => {
                    self.check.set(None);
                    self.problem.set(Some(message));
                }
            }
        });
    }

    fn discard(self, upload: String) {
        leptos::task::spawn_local(async move {
            let _ = crate::server_fns::datasets::discard_upload(upload).await;
        });
    }

    /// Follows the dataset being written until it is ready or failed.
    fn follow(self, id: String) {
        leptos::task::spawn_local(async move {
            match crate::server_fns::datasets::dataset(id.clone()).await {
                Ok(dataset) => {
                    let writing = dataset.status == DatasetStatus::Writing;
                    self.written.set(Some(dataset));
                    if writing {
                        set_timeout(
                            move || self.follow(id),
                            std::time::Duration::from_millis(250),
                        );
                    } else {
                        self.changed.update(|n| *n += 1);
                    }
                }
                Err(e) => self.problem.set(Some(server_message(&e))),
            }
        });
    }
}

impl Default for DataState {
    fn default() -> Self {
        Self::new()
    }
}

/// `POST /api/v1/datasets/check?QUERY` with `body` (a `File` is streamed by the browser);
/// the check, or the server's message.
#[cfg(feature = "hydrate")]
async fn upload(query: &str, body: wasm_bindgen::JsValue) -> Result<DatasetCheck, String> {
    use switchyard_protocol::api::error::ErrorBody;
    let request = gloo_net::http::Request::post(&format!("/api/v1/datasets/check?{query}"))
        .header("content-type", "application/octet-stream")
        .body(body)
        .map_err(|e| format!("could not send the file: {e}"))?;
    let response = request
        .send()
        .await
        .map_err(|e| format!("could not reach the server: {e}"))?;
    if response.ok() {
        return response
            .json::<DatasetCheck>()
            .await
            .map_err(|e| format!("unexpected answer: {e}"));
    }
    let status = response.status();
    Err(match response.json::<ErrorBody>().await {
        Ok(body) => body.error.message,
        Err(_) => format!("the server answered {status}"),
    })
}

/// `a b.csv` → `a%20b.csv`: everything but unreserved characters escaped.
#[cfg(feature = "hydrate")]
fn percent_encoded(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for byte in text.bytes() {
        if byte.is_ascii_alphanumeric() || matches!(byte, b'-' | b'_' | b'.' | b'~') {
            out.push(byte as char);
        } else {
            out.push_str(&format!("%{byte:02X}"));
        }
    }
    out
}

#[component]
fn ScoreRow(scores: Scores) -> impl IntoView {
    let meters = [
        ("Completeness", "values present", scores.completeness),
        (
            "Validity",
            "values that fit their column's kind",
            scores.validity,
        ),
        ("Uniqueness", "distinct rows", scores.uniqueness),
    ];
    view! {
        <dl class="data-scores">
            {meters
                .into_iter()
                .map(|(label, what, share)| {
                    view! {
                        <div class="data-score" title=what>
                            <dt>{label}</dt>
                            <dd>
                                <meter min="0" max="1" low="0.9" high="0.99" optimum="1" value=share></meter>
                                <span class="data-score-value">{percent(share)}</span>
                            </dd>
                        </div>
                    }
                })
                .collect_view()}
        </dl>
    }
}

/// Columns with their kind and scores: a check's schema, and a dataset's page.
#[component]
pub fn ColumnTable(id: &'static str, columns: Vec<DatasetColumn>) -> impl IntoView {
    view! {
        <div class="table-scroll">
            <table class="data-table" id=id>
                <thead>
                    <tr>
                        <th scope="col">"Column"</th>
                        <th scope="col">"Kind"</th>
                        <th scope="col">"Complete"</th>
                        <th scope="col">"Valid"</th>
                        <th scope="col">"Unique"</th>
                    </tr>
                </thead>
                <tbody>
                    {columns
                        .into_iter()
                        .map(|c| {
                            view! {
                                <tr>
                                    <th scope="row">{c.name}</th>
                                    <td><span class="kind-chip">{c.kind.as_str()}</span></td>
                                    <td>{percent(c.scores.completeness)}</td>
                                    <td>{percent(c.scores.validity)}</td>
                                    <td>{percent(c.scores.uniqueness)}</td>
                                </tr>
                            }
                        })
                        .collect_view()}
                </tbody>
            </table>
        </div>
    }
}

/// The data mode's body in the panel.
#[component]
pub fn DataMode(data: DataState) -> impl IntoView {
    view! {
        <div class="data-mode" aria-live="polite">
            <DropZone data />
            <Show when=move || data.problem.with(Option::is_some)>
                <p class="error-text" role="alert" id="data-problem">
                    {move || data.problem.get().unwrap_or_default()}
                </p>
            </Show>
            <Show when=move || data.sending.with(Option::is_some)>
                <p class="muted small" id="data-sending">
                    "Checking " {move || data.sending.get().unwrap_or_default()} "…"
                </p>
            </Show>
            <Show when=move || data.check.with(Option::is_some)>
                <CheckView data />
            </Show>
            <Show when=move || data.written.with(Option::is_some)>
                <WrittenView data />
            </Show>
            <DatasetList data />
        </div>
    }
}

#[component]
fn DropZone(data: DataState) -> impl IntoView {
    let over = RwSignal::new(false);
    #[cfg(feature = "hydrate")]
    let take = move |files: Option<web_sys::FileList>| {
        if let Some(file) = files.and_then(|f| f.get(0)) {
            data.send_file(file);
        }
    };
    #[cfg(not(feature = "hydrate"))]
    let _ = data;
    view! {
        <label
            class="data-drop"
            class:data-drop-over=move || over.get()
            on:dragover=move |ev| {
                ev.prevent_default();
                over.set(true);
            }
            on:dragleave=move |_| over.set(false)
            on:drop=move |ev| {
                ev.prevent_default();
                over.set(false);
                #[cfg(feature = "hydrate")]
                take(ev.data_transfer().and_then(|t| t.files()));
            }
        >
            <input
                type="file"
                id="data-file"
                accept=".csv,.json,.jsonl,.ndjson,text/csv,application/json"
                on:change=move |ev| {
                    #[cfg(feature = "hydrate")]
                    {
                        use wasm_bindgen::JsCast;
                        let input: web_sys::HtmlInputElement = ev
                            .target()
                            .expect("a change has a target")
                            .unchecked_into();
                        take(input.files());
                        input.set_value("");
                    }
                    #[cfg(not(feature = "hydrate"))]
                    let _ = ev;
                }
            />
            <strong>"Drop a CSV, JSON or JSONL file"</strong>
            <span class="muted small">
                "or choose one, or paste a table below. It is checked first; nothing is written until you confirm."
            </span>
        </label>
    }
}

#[component]
fn CheckView(data: DataState) -> impl IntoView {
    let name = RwSignal::new(String::new());
    // A new check proposes a name from its file.
    Effect::new(move |_| {
        if let Some(check) = data.check.get() {
            let proposed = check
                .file_name
                .as_deref()
                .map(switchyard_protocol::dataset::name_from_file)
                .unwrap_or_else(|| "pasted".to_owned());
            if name.get_untracked().is_empty() || check.file_name.is_some() {
                name.set(proposed);
            }
        }
    });
    let recheck = Action::new(move |(upload, key): &(String, String)| {
        recheck_upload(upload.clone(), key.clone())
    });
    Effect::new(move |_| match recheck.value().get() {
        Some(Ok(check)) => data.check.set(Some(check)),
        Some(Err(e)) => data.problem.set(Some(server_message(&e))),
        None => {}
    });
    let write = Action::new(move |(upload, name): &(String, String)| {
        write_dataset(upload.clone(), name.clone())
    });
    Effect::new(move |_| match write.value().get() {
        Some(Ok(dataset)) => {
            data.check.set(None);
            let id = dataset.id.clone();
            data.written.set(Some(dataset));
            data.follow(id);
        }
        Some(Err(e)) => data.problem.set(Some(server_message(&e))),
        None => {}
    });
    let check = move || data.check.get();
    let profile = move || check().map(|c| c.profile);
    let good_rows = move || profile().map_or(0, |p| p.rows - p.bad_rows);
    view! {
        {move || {
            check()
                .map(|check| {
                    let profile = check.profile.clone();
                    let bad: std::collections::HashSet<u64> = profile
                        .problems
                        .iter()
                        .map(|p| p.row)
                        .collect();
                    let columns = profile.columns.clone();
                    let key = check.options.key.clone().unwrap_or_default();
                    let upload = check.upload.clone();
                    view! {
                        <section class="data-check" id="data-check" aria-label="Check">
                            <p class="data-summary">
                                <strong>{check.file_name.clone().unwrap_or_else(|| "Pasted text".into())}</strong>
                                " · " {profile.format.as_str().to_uppercase()} " · "
                                <span id="data-rows">{grouped(profile.rows)} " rows"</span>
                                " · " {bytes(check.bytes)} " · checked in " {check.took_ms} " ms"
                            </p>
                            <ScoreRow scores=profile.scores />
                            <label class="data-key">
                                "Key column (present and unique) "
                                <select
                                    id="data-key"
                                    on:change=move |ev| {
                                        recheck.dispatch((upload.clone(), event_target_value(&ev)));
                                    }
                                >
                                    <option value="" selected=key.is_empty()>"none"</option>
                                    {columns
                                        .iter()
                                        .map(|c| {
                                            let selected = c.name == key;
                                            view! {
                                                <option value=c.name.clone() selected=selected>
                                                    {c.name.clone()}
                                                </option>
                                            }
                                        })
                                        .collect_view()}
                                </select>
                            </label>
                            <h3 class="data-heading">"Schema"</h3>
                            <ColumnTable
                                id="data-schema"
                                columns=columns
                                    .iter()
                                    .map(|c| DatasetColumn {
                                        name: c.name.clone(),
                                        kind: c.kind,
                                        scores: c.scores,
                                    })
                                    .collect()
                            />
                            <h3 class="data-heading" id="data-bad-rows">
                                {match profile.bad_rows {
                                    0 => "No rows with problems".to_owned(),
                                    1 => "1 row with problems (left out when written)".to_owned(),
                                    n => format!("{} rows with problems (left out when written)", grouped(n)),
                                }}
                            </h3>
                            <Show when={
                                let any = !profile.problems.is_empty();
                                move || any
                            }>
                                <ul class="data-problems" id="data-problems">
                                    {profile
                                        .problems
                                        .iter()
                                        .map(|p| {
                                            view! {
                                                <li>
                                                    <span class="data-problem-row">"Row " {p.row}</span>
                                                    " · " <code>{p.column.clone()}</code> " · "
                                                    {p.issue.describe()}
                                                </li>
                                            }
                                        })
                                        .collect_view()}
                                </ul>
                                {(profile.problem_count > profile.problems.len() as u64)
                                    .then(|| {
                                        view! {
                                            <p class="muted small">
                                                "The first " {profile.problems.len()} " of "
                                                {grouped(profile.problem_count)} " problems."
                                            </p>
                                        }
                                    })}
                            </Show>
                            <h3 class="data-heading">"Preview"</h3>
                            <div class="table-scroll">
                                <table class="data-table data-preview" id="data-preview">
                                    <thead>
                                        <tr>
                                            <th scope="col">"#"</th>
                                            {columns
                                                .iter()
                                                .map(|c| view! { <th scope="col">{c.name.clone()}</th> })
                                                .collect_view()}
                                        </tr>
                                    </thead>
                                    <tbody>
                                        {profile
                                            .preview
                                            .iter()
                                            .enumerate()
                                            .map(|(i, row)| {
                                                let number = i as u64 + 1;
                                                view! {
                                                    <tr class:data-row-bad=bad.contains(&number)>
                                                        <td class="muted">{number}</td>
                                                        {row
                                                            .iter()
                                                            .map(|v| view! { <td>{v.clone()}</td> })
                                                            .collect_view()}
                                                    </tr>
                                                }
                                            })
                                            .collect_view()}
                                    </tbody>
                                </table>
                            </div>
                        </section>
                    }
                })
        }}
        <form
            class="data-confirm"
            on:submit=move |ev| {
                ev.prevent_default();
                if let Some(check) = data.check.get_untracked() {
                    write.dispatch((check.upload, name.get_untracked().trim().to_owned()));
                }
            }
        >
            <label>
                "Dataset name "
                <input
                    id="data-name"
                    required
                    maxlength="64"
                    prop:value=move || name.get()
                    on:input=move |ev| name.set(event_target_value(&ev))
                />
            </label>
            <button
                type="submit"
                class="button"
                id="data-write"
                disabled=move || write.pending().get() || name.with(|n| n.trim().is_empty())
            >
                {move || format!("Write {} rows", grouped(good_rows()))}
            </button>
            <button
                type="button"
                class="ghost-button"
                id="data-discard"
                on:click=move |_| {
                    if let Some(check) = data.check.get_untracked() {
                        data.discard(check.upload);
                    }
                    data.check.set(None);
                }
            >
                "Discard"
            </button>
        </form>
    }
}

#[component]
fn WrittenView(data: DataState) -> impl IntoView {
    move || {
        data.written.get().map(|dataset| {
            let href = format!("/datasets/{}", dataset.id);
            let (state, detail) = match dataset.status {
                DatasetStatus::Writing => (
                    "Writing",
                    format!(
                        "{} of {} rows",
                        grouped(dataset.rows_written),
                        grouped(dataset.rows)
                    ),
                ),
                DatasetStatus::Ready => (
                    "Written",
                    format!(
                        "{} rows ({} left out with problems)",
                        grouped(dataset.rows_written),
                        grouped(dataset.rows_skipped)
                    ),
                ),
                DatasetStatus::Failed => ("Not written", dataset.error.clone().unwrap_or_default()),
            };
            view! {
                <section class="data-written" id="data-written" data-status=dataset.status.as_str()>
                    <p>
                        <strong>{state}</strong> " "
                        <A href=href>{dataset.name.clone()}</A> ": " {detail}
                    </p>
                    <progress
                        max=dataset.rows.max(1)
                        value=dataset.rows_written
                        aria-label="Rows written"
                    ></progress>
                </section>
            }
        })
    }
}

#[component]
fn DatasetList(data: DataState) -> impl IntoView {
    let filter = RwSignal::new(String::new());
    let list = Resource::new(
        move || (filter.get(), data.changed.get()),
        |(text, _)| datasets(text),
    );
    view! {
        <section class="data-list" aria-label="Datasets">
            <div class="data-list-header">
                <h3 class="data-heading">"Datasets"</h3>
                <input
                    type="search"
                    id="data-search"
                    placeholder="Find by name"
                    aria-label="Find datasets by name"
                    prop:value=move || filter.get()
                    on:input=move |ev| filter.set(event_target_value(&ev))
                />
            </div>
            <Transition fallback=|| view! { <p class="muted small">"Reading…"</p> }>
                {move || {
                    list.get()
                        .map(|found| match found {
                            Ok(found) if found.is_empty() => {
                                view! {
                                    <p class="muted small">
                                        {if filter.with(String::is_empty) {
                                            "No datasets yet: drop a file above."
                                        } else {
                                            "No dataset matches."
                                        }}
                                    </p>
                                }
                                    .into_any()
                            }
                            Ok(found) => {
                                view! {
                                    <ul class="data-datasets" id="data-datasets">
                                        {found
                                            .into_iter()
                                            .map(|d| {
                                                let href = format!("/datasets/{}", d.id);
                                                view! {
                                                    <li>
                                                        <A href=href>{d.name.clone()}</A>
                                                        <span class="muted small">
                                                            {grouped(d.rows_written)} " rows · " {d.status.as_str()}
                                                            " · valid " {percent(d.scores.validity)}
                                                        </span>
                                                    </li>
                                                }
                                            })
                                            .collect_view()}
                                    </ul>
                                }
                                    .into_any()
                            }
                            Err(e) => {
                                view! { <p class="error-text">{server_message(&e)}</p> }.into_any()
                            }
                        })
                }}
            </Transition>
        </section>
    }
}
