//! Kill switches: turn a capability off for every server at once, with the reason that every
//! refused caller reads; turn it back on.

use leptos::prelude::*;
use switchyard_protocol::admin::SwitchRow;

use super::{Actions, action_error};
use crate::server_fns::admin::SetSwitch;

#[component]
pub fn Switches(rows: Vec<SwitchRow>) -> impl IntoView {
    let actions = expect_context::<Actions>();
    let set = actions.set_switch;
    view! {
        <section class="card admin-card" aria-labelledby="switches-title" id="admin-switches">
            <div class="card-header">
                <h2 id="switches-title">"Kill switches"</h2>
                <span class="muted small">"Takes effect on the next call, on every server"</span>
            </div>
            <table class="data-table" id="switches-table">
                <thead>
                    <tr>
                        <th scope="col">"Capability"</th>
                        <th scope="col">"State"</th>
                        <th scope="col">"Reason"</th>
                    </tr>
                </thead>
                <tbody>
                    {rows
                        .into_iter()
                        .map(|row| {
                            let capability = row.capability.clone();
                            let reason = RwSignal::new(String::new());
                            let off = row.off_reason.is_some();
                            let name = row.capability.clone();
                            view! {
                                <tr data-capability=name>
                                    <td>
                                        {row.describe}
                                        <br />
                                        <code class="muted small">{row.capability}</code>
                                    </td>
                                    <td>
                                        {if off {
                                            view! { <span class="pill pill-error">"off"</span> }
                                        } else {
                                            view! { <span class="pill pill-ok">"on"</span> }
                                        }}
                                    </td>
                                    <td>
                                        {match row.off_reason {
                                            Some(why) => {
                                                let capability = capability.clone();
                                                view! {
                                                    <span class="muted">
                                                        {format!("{why} (by {})", row.set_by.unwrap_or_default())}
                                                    </span>
                                                    <button
                                                        class="ghost-button"
                                                        on:click=move |_| {
                                                            set.dispatch(SetSwitch {
                                                                capability: capability.clone(),
                                                                off: false,
                                                                reason: String::new(),
                                                            });
                                                        }
                                                    >
                                                        "Turn on"
                                                    </button>
                                                }
                                                    .into_any()
                                            }
                                            None => {
                                                let capability = capability.clone();
                                                view! {
                                                    <span class="switch-off">
                                                        <input
                                                            class="inline-input"
                                                            placeholder="Why (shown to refused callers)"
                                                            aria-label="Reason"
                                                            prop:value=reason
                                                            on:input=move |ev| reason.set(event_target_value(&ev))
                                                        />
                                                        <button
                                                            class="ghost-button danger"
                                                            on:click=move |_| {
                                                                set.dispatch(SetSwitch {
                                                                    capability: capability.clone(),
                                                                    off: true,
                                                                    reason: reason.get_untracked(),
                                                                });
                                                            }
                                                        >
                                                            "Turn off"
                                                        </button>
                                                    </span>
                                                }
                                                    .into_any()
                                            }
                                        }}
                                    </td>
                                </tr>
                            }
                        })
                        .collect_view()}
                </tbody>
            </table>
            {action_error(set.value())}
        </section>
    }
}
