//! A run's event history on its page: every event, newest last, with a filter by kind (the
//! kinds this run has). The filter holds while new events arrive.

use leptos::prelude::*;
use switchyard_protocol::EventRow;

#[component]
pub fn RunHistory(rows: Signal<Vec<EventRow>>, total: Signal<u64>) -> impl IntoView {
    let kind = RwSignal::new(String::new());
    let kinds = Memo::new(move |_| {
        let mut kinds: Vec<String> = rows.with(|r| r.iter().map(|e| e.kind.clone()).collect());
        kinds.sort();
        kinds.dedup();
        kinds
    });
    let shown = move || {
        let kind = kind.get();
        rows.with(|r| {
            r.iter()
                .filter(|e| kind.is_empty() || e.kind == kind)
                .cloned()
                .collect::<Vec<_>>()
        })
    };
    let note = move || {
        let listed = rows.with(Vec::len) as u64;
        let total = total.get();
        (listed < total).then(|| {
            format!("The newest {listed} of {total} events; GET /api/v1/runs/{{id}}/events pages through all.")
        })
    };
    view! {
        <section class="card run-history" aria-labelledby="history-title">
            <div class="card-head">
                <h2 id="history-title">"Events"</h2>
                <label class="inline-field">
                    <span>"Kind"</span>
                    <select
                        id="history-kind"
                        on:change=move |ev| kind.set(event_target_value(&ev))
                        prop:value=move || kind.get()
                    >
                        <option value="">"all"</option>
                        {move || {
                            kinds
                                .get()
                                .into_iter()
                                .map(|k| {
                                    // Rebuilt options keep the chosen one chosen.
                                    let chosen = kind.get_untracked() == k;
                                    view! { <option value=k.clone() selected=chosen>{k.replace('_', " ")}</option> }
                                })
                                .collect_view()
                        }}
                    </select>
                </label>
            </div>
            {move || note().map(|text| view! { <p class="muted small">{text}</p> })}
            <div class="table-scroll">
                <table class="data-table history-table" id="run-history">
                    <thead>
                        <tr>
                            <th scope="col" class="numeric">"#"</th>
                            <th scope="col">"At (UTC)"</th>
                            <th scope="col">"Kind"</th>
                            <th scope="col">"Step"</th>
                            <th scope="col">"Detail"</th>
                        </tr>
                    </thead>
                    <tbody>
                        {move || {
                            shown()
                                .into_iter()
                                .map(|event| view! {
                                    <tr data-seq=event.seq data-kind=event.kind.clone()>
                                        <td class="numeric">{event.seq}</td>
                                        <td class="mono">{event.at.get(11..23).unwrap_or(&event.at).to_owned()}</td>
                                        <td>{event.kind.replace('_', " ")}</td>
                                        <td class="mono">{event.step.unwrap_or_default()}</td>
                                        <td class="muted">{event.detail}</td>
                                    </tr>
                                })
                                .collect_view()
                        }}
                    </tbody>
                </table>
            </div>
        </section>
    }
}
