//! Accounts: invite one (a one-time password to hand over), change a role, disable or enable.

use leptos::form::ActionForm;
use leptos::prelude::*;
use switchyard_protocol::admin::UserRow;

use super::{Actions, action_error};
use crate::server_fns::admin::{SetDisabled, SetRole};

const ROLES: [&str; 3] = ["viewer", "operator", "admin"];

#[component]
pub fn Users(rows: Vec<UserRow>, projects: Vec<String>) -> impl IntoView {
    let actions = expect_context::<Actions>();
    let invite = actions.invite;
    let set_role = actions.set_role;
    let set_disabled = actions.set_disabled;
    let invited = move || {
        invite.value().get().and_then(Result::ok).map(|invited| {
            view! {
                <p class="notice notice-ok" role="status" id="invited">
                    "Invited " <strong>{invited.email}</strong> ". Their one-time password (shown once): "
                    <code class="secret">{invited.password}</code>
                </p>
            }
        })
    };
    let count = rows.len();
    view! {
        <section class="card admin-card" aria-labelledby="users-title" id="admin-users">
            <div class="card-header">
                <h2 id="users-title">"Users"</h2>
                <span class="muted small">{format!("{count} accounts")}</span>
            </div>
            <table class="data-table" id="users-table">
                <thead>
                    <tr>
                        <th scope="col">"Email"</th>
                        <th scope="col">"Role"</th>
                        <th scope="col">"Projects"</th>
                        <th scope="col">"Status"</th>
                        <th scope="col"><span class="visually-hidden">"Actions"</span></th>
                    </tr>
                </thead>
                <tbody>
                    {rows
                        .into_iter()
                        .map(|user| {
                            let id = user.id.clone();
                            let id_for_role = user.id.clone();
                            let disabled = user.disabled;
                            let email = user.email.clone();
                            view! {
                                <tr data-user=email>
                                    <td>{user.email.clone()}</td>
                                    <td>
                                        <select
                                            class="inline-select"
                                            aria-label=format!("Role of {}", user.email)
                                            on:change=move |ev| {
                                                set_role.dispatch(SetRole {
                                                    user_id: id_for_role.clone(),
                                                    role: event_target_value(&ev),
                                                });
                                            }
                                        >
                                            {ROLES
                                                .into_iter()
                                                .map(|role| {
                                                    view! { <option value=role selected=user.role == role>{role}</option> }
                                                })
                                                .collect_view()}
                                        </select>
                                    </td>
                                    <td class="muted">{user.projects.join(", ")}</td>
                                    <td>
                                        {if disabled {
                                            view! { <span class="pill pill-error">"disabled"</span> }
                                        } else {
                                            view! { <span class="pill pill-ok">"active"</span> }
                                        }}
                                    </td>
                                    <td class="actions">
                                        <button
                                            class="ghost-button"
                                            on:click=move |_| {
                                                set_disabled.dispatch(SetDisabled {
                                                    user_id: id.clone(),
                                                    disabled: !disabled,
                                                });
                                            }
                                        >
                                            {if disabled { "Enable" } else { "Disable" }}
                                        </button>
                                    </td>
                                </tr>
                            }
                        })
                        .collect_view()}
                </tbody>
            </table>
            {action_error(set_role.value())}
            {action_error(set_disabled.value())}
            <h3>"Invite a user"</h3>
            <ActionForm action=invite attr:class="inline-form" attr:id="invite-form">
                <label class="field">
                    <span>"Email"</span>
                    <input type="email" name="email" required placeholder="ada@example.com" />
                </label>
                <label class="field">
                    <span>"Role"</span>
                    <select name="role">
                        {ROLES.into_iter().map(|r| view! { <option value=r>{r}</option> }).collect_view()}
                    </select>
                </label>
                <label class="field">
                    <span>"Project"</span>
                    <select name="project">
                        {projects
                            .into_iter()
                            .map(|p| view! { <option value=p.clone()>{p.clone()}</option> })
                            .collect_view()}
                    </select>
                </label>
                <button type="submit" class="button">"Invite"</button>
            </ActionForm>
            {invited}
            {action_error(invite.value())}
        </section>
    }
}
