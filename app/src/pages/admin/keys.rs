//! API keys: issue one (the secret is shown once), see when each was last used, revoke.

use leptos::form::ActionForm;
use leptos::prelude::*;
use switchyard_protocol::admin::KeyRow;

use super::{Actions, action_error, short_ms};
use crate::server_fns::admin::RevokeKey;

#[component]
pub fn Keys(rows: Vec<KeyRow>) -> impl IntoView {
    let actions = expect_context::<Actions>();
    let create = actions.create_key;
    let revoke = actions.revoke_key;
    let issued = move || {
        create.value().get().and_then(Result::ok).map(|issued| {
            view! {
                <p class="notice notice-ok" role="status" id="key-issued">
                    "Key " <code>{issued.id}</code> " issued. Copy its secret now; it is not shown again: "
                    <code class="secret">{issued.secret}</code>
                </p>
            }
        })
    };
    view! {
        <section class="card admin-card" aria-labelledby="keys-title" id="admin-keys">
            <div class="card-header">
                <h2 id="keys-title">"API keys"</h2>
                <span class="muted small">"For machines and external agents: Authorization: Bearer sy_…"</span>
            </div>
            <table class="data-table" id="keys-table">
                <thead>
                    <tr>
                        <th scope="col">"Name"</th>
                        <th scope="col">"Project"</th>
                        <th scope="col">"Scopes"</th>
                        <th scope="col" class="numeric">"Limits"</th>
                        <th scope="col">"Last used"</th>
                        <th scope="col"><span class="visually-hidden">"Actions"</span></th>
                    </tr>
                </thead>
                <tbody>
                    {rows
                        .into_iter()
                        .map(|key| {
                            let id = key.id.clone();
                            let name = key.name.clone();
                            view! {
                                <tr data-key=name>
                                    <td>{key.name}<br /><code class="muted small">{key.id.clone()}</code></td>
                                    <td>{key.project}</td>
                                    <td class="muted">{key.scopes.join(" ")}</td>
                                    <td class="numeric muted">
                                        {format!("{}/min · {} at once", key.rate_per_min, key.max_concurrency)}
                                    </td>
                                    <td class="muted">{key.last_used_at_ms.map_or_else(|| "never".to_owned(), short_ms)}</td>
                                    <td class="actions">
                                        {if key.revoked {
                                            view! { <span class="pill pill-error">"revoked"</span> }.into_any()
                                        } else {
                                            view! {
                                                <button
                                                    class="ghost-button"
                                                    on:click=move |_| {
                                                        revoke.dispatch(RevokeKey { id: id.clone() });
                                                    }
                                                >
                                                    "Revoke"
                                                </button>
                                            }
                                                .into_any()
                                        }}
                                    </td>
                                </tr>
                            }
                        })
                        .collect_view()}
                </tbody>
            </table>
            {action_error(revoke.value())}
            <h3>"Issue a key"</h3>
            <ActionForm action=create attr:class="inline-form" attr:id="key-form">
                <label class="field">
                    <span>"Name"</span>
                    <input name="name" required placeholder="ci-runner" />
                </label>
                <label class="field">
                    <span>"Project"</span>
                    <input name="project" required value="default" />
                </label>
                <label class="field">
                    <span>"Scopes"</span>
                    <input name="scopes" required value="runs:read" title="Comma-separated: runs:read, runs:write, approve, events:ingest, infer, workflows:run, admin, or workflows:run:NAME for one template" />
                </label>
                <label class="field">
                    <span>"Requests/min"</span>
                    <input type="number" name="rate_per_min" min="1" value="600" required />
                </label>
                <label class="field">
                    <span>"At once"</span>
                    <input type="number" name="max_concurrency" min="1" value="8" required />
                </label>
                <button type="submit" class="button">"Issue key"</button>
            </ActionForm>
            {issued}
            {action_error(create.value())}
        </section>
    }
}
