//! One workflow template (`/workflows/{name}`): its form, generated from the parameter schema,
//! which starts a run and shows the server's problems next to the fields they name; how to
//! call it from a program; its newest runs; its schema and plan.

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::components::A;
use leptos_router::hooks::{use_navigate, use_params_map};
use serde_json::Value;
use switchyard_protocol::api::workflows::{Attempt, TemplatePage};

use super::account::server_message;
use super::schema_form::{FieldErrors, SchemaFields, initial_values};
use crate::server_fns::workflows::{StartWorkflow, workflow_page};

#[component]
pub fn WorkflowPage() -> impl IntoView {
    let params = use_params_map();
    let name = move || params.with(|p| p.get("name").unwrap_or_default());
    let page = Resource::new(name, workflow_page);
    view! {
        <Title text=move || format!("Workflow {}", name()) />
        <div class="page">
            <Transition fallback=|| view! { <p class="muted">"Loading…"</p> }>
                {move || {
                    page.get()
                        .map(|loaded| match loaded {
                            Ok(page) => view! { <TemplateView page=page /> }.into_any(),
                            Err(e) => {
                                view! {
                                    <header class="page-header">
                                        <h1>"Workflow"</h1>
                                    </header>
                                    <p class="notice notice-error" role="alert" id="workflow-error">
                                        {server_message(&e)}
                                    </p>
                                    <A href="/workflows">"All workflows"</A>
                                }
                                    .into_any()
                            }
                        })
                }}
            </Transition>
        </div>
    }
}

#[component]
fn TemplateView(page: TemplatePage) -> impl IntoView {
    let TemplatePage {
        template,
        runs,
        may_run,
    } = page;
    let values = RwSignal::new(initial_values(&template.params_schema));
    let errors = RwSignal::new(FieldErrors::new());
    let start = ServerAction::<StartWorkflow>::new();
    let navigate = use_navigate();
    // The answer: the run's page, or each problem next to its field (and the ones that name
    // no field above the button).
    let general = RwSignal::new(Vec::<String>::new());
    Effect::new(move |_| match start.value().get() {
        Some(Ok(Attempt::Done(id))) => navigate(&format!("/runs/{id}"), Default::default()),
        Some(Ok(Attempt::Problems { message, issues })) => {
            let mut by_field = FieldErrors::new();
            let mut loose = Vec::new();
            for issue in issues {
                if issue.field.is_empty() {
                    loose.push(issue.message);
                } else {
                    by_field
                        .entry(issue.field)
                        .and_modify(|m: &mut String| {
                            m.push_str("; ");
                            m.push_str(&issue.message);
                        })
                        .or_insert(issue.message);
                }
            }
            if loose.is_empty() && by_field.is_empty() {
                loose.push(message);
            }
            errors.set(by_field);
            general.set(loose);
        }
        _ => {}
    });
    let name = template.name.clone();
    let heading = format!(
        "version {} of {} · project {} · saved by {}",
        template.version, template.versions, template.project, template.created_by
    );
    let api_path = format!("/api/v1/workflows/{}/runs", template.name);
    let example = serde_json::to_string(&initial_values(&template.params_schema))
        .unwrap_or_else(|_| "{}".into());
    let curl = format!(
        "curl -X POST \"$SWITCHYARD/api/v1/workflows/{}/runs?wait=30\" \\\n  -H \"Authorization: Bearer $SWITCHYARD_KEY\" \\\n  -H 'content-type: application/json' \\\n  -d '{example}'",
        template.name
    );
    let schema_text = serde_json::to_string_pretty(&template.params_schema).unwrap_or_default();
    let plan_text = serde_json::to_string_pretty(&template.plan).unwrap_or_default();
    let disabled = Signal::derive(move || !may_run || start.pending().get());
    let schema: Value = template.params_schema.clone();
    // The fields are drawn in the browser only: the server's rendering of these generated
    // controls did not hydrate alike (tachys 0.2 under erase_components placed their markers
    // differently), and a form is of no use before the page is interactive anyway.
    let interactive = RwSignal::new(false);
    Effect::new(move |_| interactive.set(true));
    view! {
        <header class="page-header">
            <p class="muted breadcrumb-back">
                <A href="/workflows">"Workflows"</A>
            </p>
            <h1 id="workflow-name">{template.name.clone()}</h1>
            <p class="muted">{heading}</p>
            {(!template.description.is_empty()).then(|| view! { <p>{template.description.clone()}</p> })}
        </header>
        <div class="workflow-grid">
            <section class="card" aria-label="Start a run">
                <h2>"Start a run"</h2>
                <form
                    id="workflow-form"
                    class="schema-form"
                    novalidate
                    on:submit=move |ev| {
                        ev.prevent_default();
                        errors.set(FieldErrors::new());
                        general.set(Vec::new());
                        start.dispatch(StartWorkflow {
                            name: name.clone(),
                            params: values.with_untracked(Value::to_string),
                        });
                    }
                >
                    <Show
                        when=move || interactive.get()
                        fallback=|| view! { <p class="muted" id="form-preparing">"Preparing the form…"</p> }
                    >
                        <SchemaFields schema=schema.clone() values=values errors=errors disabled=disabled />
                    </Show>
                    {move || {
                        let loose = general.get();
                        (!loose.is_empty())
                            .then(|| {
                                view! {
                                    <div class="notice notice-error" role="alert" id="workflow-problems">
                                        {loose.into_iter().map(|m| view! { <p>{m}</p> }).collect_view()}
                                    </div>
                                }
                            })
                    }}
                    {move || {
                        start.value().get().and_then(Result::err).map(|e| {
                            view! { <p class="notice notice-error" role="alert" id="workflow-refused">{server_message(&e)}</p> }
                        })
                    }}
                    <div class="plan-actions">
                        <button
                            class="button"
                            type="submit"
                            id="start-workflow"
                            disabled=move || disabled.get()
                            title=move || {
                                if may_run { "Check the parameters and start the run" } else { "You may not start runs of this workflow" }
                            }
                        >
                            "Start run"
                        </button>
                    </div>
                </form>
            </section>
            <section class="card" aria-label="From a program">
                <h2>"From a program"</h2>
                <p class="muted">
                    <code>{format!("POST {api_path}")}</code>
                    " with the parameters as JSON; "
                    <code>"?wait=S"</code>
                    " answers with the outputs when the run ends within S seconds. An API key needs "
                    <code>{format!("workflows:run:{}", template.name)}</code>
                    " (or workflows:run). The run's events stream from "
                    <code>{format!("{api_path}/ID/stream")}</code>
                    "."
                </p>
                <pre class="code" id="workflow-curl">{curl}</pre>
                <h2>"Recent runs"</h2>
                {if runs.is_empty() {
                    view! { <p class="muted" id="workflow-runs">"None yet."</p> }.into_any()
                } else {
                    view! {
                        <ul class="plain-list" id="workflow-runs">
                            {runs
                                .into_iter()
                                .map(|id| {
                                    let href = format!("/runs/{id}");
                                    view! {
                                        <li>
                                            <A href=href>
                                                <code>{id}</code>
                                            </A>
                                        </li>
                                    }
                                })
                                .collect_view()}
                        </ul>
                    }
                        .into_any()
                }}
                <details>
                    <summary>"Parameter schema"</summary>
                    <pre class="code">{schema_text}</pre>
                </details>
                <details>
                    <summary>"Plan"</summary>
                    <pre class="code">{plan_text}</pre>
                </details>
            </section>
        </div>
    }
}
