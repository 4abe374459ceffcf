//! Projects: create one, add members. Runs and API keys belong to a project; a member of one
//! project never sees another's.

use leptos::form::ActionForm;
use leptos::prelude::*;
use switchyard_protocol::admin::ProjectRow;

use super::{Actions, action_error};

#[component]
pub fn Projects(rows: Vec<ProjectRow>) -> impl IntoView {
    let actions = expect_context::<Actions>();
    let create = actions.create_project;
    let add = actions.add_member;
    let names: Vec<String> = rows.iter().map(|p| p.name.clone()).collect();
    view! {
        <section class="card admin-card" aria-labelledby="projects-title" id="admin-projects">
            <div class="card-header">
                <h2 id="projects-title">"Projects"</h2>
            </div>
            <table class="data-table" id="projects-table">
                <thead>
                    <tr>
                        <th scope="col">"Project"</th>
                        <th scope="col">"Members"</th>
                    </tr>
                </thead>
                <tbody>
                    {rows
                        .into_iter()
                        .map(|p| {
                            let members = if p.members.is_empty() {
                                "no members yet (admins see every project)".to_owned()
                            } else {
                                p.members.join(", ")
                            };
                            let name = p.name.clone();
                            view! {
                                <tr data-project=name>
                                    <td><code>{p.name}</code></td>
                                    <td class="muted">{members}</td>
                                </tr>
                            }
                        })
                        .collect_view()}
                </tbody>
            </table>
            <div class="form-row">
                <ActionForm action=create attr:class="inline-form" attr:id="project-form">
                    <label class="field">
                        <span>"New project"</span>
                        <input name="name" required pattern="[a-z0-9][a-z0-9_-]{0,62}" placeholder="team-a" />
                    </label>
                    <button type="submit" class="button">"Create"</button>
                </ActionForm>
                <ActionForm action=add attr:class="inline-form" attr:id="member-form">
                    <label class="field">
                        <span>"Project"</span>
                        <select name="project">
                            {names.into_iter().map(|n| view! { <option value=n.clone()>{n.clone()}</option> }).collect_view()}
                        </select>
                    </label>
                    <label class="field">
                        <span>"Member's email"</span>
                        <input type="email" name="email" required />
                    </label>
                    <button type="submit" class="button">"Add member"</button>
                </ActionForm>
            </div>
            {action_error(create.value())}
            {action_error(add.value())}
        </section>
    }
}
