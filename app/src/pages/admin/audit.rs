//! The audit log: the newest entries, filtered by text or refusals only, and a check of the
//! hash chain.

use leptos::prelude::*;

use super::short_ms;
use crate::pages::account::server_message;
use crate::server_fns::admin::{VerifyAudit, audit_entries};

#[component]
pub fn Audit() -> impl IntoView {
    let text = RwSignal::new(String::new());
    let denied_only = RwSignal::new(false);
    let verify = ServerAction::<VerifyAudit>::new();
    let rows = Resource::new(
        move || (text.get(), denied_only.get()),
        |(text, denied)| audit_entries(text, denied),
    );
    let verdict = move || {
        verify.value().get().map(|result| match result {
            Ok(text) => {
                let class = if text.starts_with("Intact") {
                    "notice notice-ok"
                } else {
                    "notice notice-error"
                };
                view! { <p class=class role="status" id="audit-verdict">{text}</p> }.into_any()
            }
            Err(e) => {
                view! { <p class="notice notice-error" role="alert">{server_message(&e)}</p> }
                    .into_any()
            }
        })
    };
    view! {
        <section class="card admin-card" aria-labelledby="audit-title" id="admin-audit">
            <div class="card-header">
                <h2 id="audit-title">"Audit log"</h2>
                <button class="ghost-button" id="verify-audit" on:click=move |_| { verify.dispatch(VerifyAudit {}); }>
                    "Verify chain"
                </button>
            </div>
            {verdict}
            <div class="filter-row">
                <input
                    class="inline-input"
                    id="audit-filter"
                    type="search"
                    placeholder="Filter: actor, action, target or result"
                    aria-label="Filter the audit log"
                    on:change=move |ev| text.set(event_target_value(&ev))
                />
                <label class="checkbox">
                    <input
                        type="checkbox"
                        id="audit-denied"
                        on:change=move |ev| denied_only.set(event_target_checked(&ev))
                    />
                    "Refusals only"
                </label>
            </div>
            <Transition fallback=|| view! { <p class="muted">"Loading…"</p> }>
                {move || Suspend::new(async move {
                    match rows.await {
                        Ok(rows) if rows.is_empty() => view! { <p class="muted">"No entries match."</p> }.into_any(),
                        Ok(rows) => view! {
                            <table class="data-table" id="audit-table">
                                <thead>
                                    <tr>
                                        <th scope="col" class="numeric">"#"</th>
                                        <th scope="col">"When (UTC)"</th>
                                        <th scope="col">"Who"</th>
                                        <th scope="col">"What"</th>
                                        <th scope="col">"Target"</th>
                                        <th scope="col">"Result"</th>
                                        <th scope="col">"From"</th>
                                    </tr>
                                </thead>
                                <tbody>
                                    {rows
                                        .into_iter()
                                        .map(|row| {
                                            let class = if row.result.starts_with("denied") || row.result.starts_with("failed") {
                                                "pill pill-error"
                                            } else {
                                                "pill pill-ok"
                                            };
                                            view! {
                                                <tr>
                                                    <td class="numeric muted">{row.seq}</td>
                                                    <td class="muted">{short_ms(row.at_ms)}</td>
                                                    <td>{row.actor}</td>
                                                    <td><code>{row.action}</code></td>
                                                    <td class="muted truncate">{row.target}</td>
                                                    <td><span class=class>{row.result}</span></td>
                                                    <td class="muted">{row.ip}</td>
                                                </tr>
                                            }
                                        })
                                        .collect_view()}
                                </tbody>
                            </table>
                        }
                        .into_any(),
                        Err(e) => view! { <p class="error-text" role="alert">{server_message(&e)}</p> }.into_any(),
                    }
                })}
            </Transition>
        </section>
    }
}
