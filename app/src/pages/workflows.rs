//! The Workflows section: saved templates (a plan whose inputs read `{{params.NAME}}`, with
//! the JSON Schema of those parameters), each a form, an API route and an entry in the API
//! document; and the editor that saves a new template or a new version of one.

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::components::A;
use switchyard_protocol::api::workflows::{Attempt, TemplateView};

use super::account::server_message;
use crate::server_fns::workflows::{SaveWorkflow, workflow_list};

const EXAMPLE_SCHEMA: &str = r#"{
  "type": "object",
  "required": ["url"],
  "properties": {
    "url": {"type": "string", "format": "uri", "description": "The page to fetch"},
    "attempts": {"type": "integer", "minimum": 1, "maximum": 5, "default": 3}
  }
}"#;

const EXAMPLE_PLAN: &str = r#"{
  "steps": [
    {"key": "fetch", "agent": "default", "tool": "http",
     "input": {"url": "{{params.url}}"},
     "retry": {"max_attempts": "{{params.attempts}}"}}
  ]
}"#;

/// How many parameters a template's schema declares.
fn parameter_count(template: &TemplateView) -> usize {
    template
        .params_schema
        .get("properties")
        .and_then(|p| p.as_object())
        .map_or(0, |p| p.len())
}

#[component]
pub fn Workflows() -> impl IntoView {
    let save = ServerAction::<SaveWorkflow>::new();
    let templates = Resource::new(move || save.version().get(), |_| workflow_list());
    let account = crate::shell::CurrentAccount::expect().0;
    let may_write = move || {
        account
            .get()
            .and_then(Result::ok)
            .is_some_and(|a| a.role != "viewer")
    };
    let editing = RwSignal::new(false);
    view! {
        <Title text="Workflows" />
        <div class="page">
            <header class="page-header page-header-row">
                <div>
                    <h1>"Workflows"</h1>
                    <p class="muted">
                        "Saved plans with parameters. Each is a form here, "
                        <code>"POST /api/v1/workflows/NAME/runs"</code>
                        " for programs, and its own entry in the API document."
                    </p>
                </div>
                <div class="header-actions">
                    <button
                        class="button"
                        id="new-template"
                        aria-expanded=move || editing.get().to_string()
                        disabled=move || !may_write()
                        title=move || {
                            if may_write() {
                                "Save a plan as a template"
                            } else {
                                "Your role may not save templates"
                            }
                        }
                        on:click=move |_| editing.update(|open| *open = !*open)
                    >
                        "New template"
                    </button>
                </div>
            </header>
            <Show when=move || editing.get()>
                <TemplateEditor save=save />
            </Show>
            <Transition fallback=|| view! { <p class="muted">"Loading…"</p> }>
                {move || {
                    templates
                        .get()
                        .map(|listed| match listed {
                            Err(e) => {
                                view! { <p class="notice notice-error" role="alert">{server_message(&e)}</p> }
                                    .into_any()
                            }
                            Ok(list) if list.is_empty() => {
                                view! {
                                    <section class="card empty-state" id="no-templates">
                                        <h2>"No templates yet"</h2>
                                        <p class="muted">
                                            "A template is a plan whose inputs read {{params.NAME}}, saved with the JSON Schema of its parameters. Save one with New template, or with POST /api/v1/workflows."
                                        </p>
                                    </section>
                                }
                                    .into_any()
                            }
                            Ok(list) => {
                                view! {
                                    <ul class="template-list" id="templates">
                                        {list
                                            .into_iter()
                                            .map(|t| {
                                                let href = format!("/workflows/{}", t.name);
                                                let count = parameter_count(&t);
                                                let meta = format!(
                                                    "version {} · project {} · {} parameter{}",
                                                    t.version,
                                                    t.project,
                                                    count,
                                                    if count == 1 { "" } else { "s" },
                                                );
                                                let shown = t.name.clone();
                                                view! {
                                                    <li class="card template-card" data-template=t.name>
                                                        <h2>
                                                            <A href=href>{shown}</A>
                                                        </h2>
                                                        <p>{t.description}</p>
                                                        <p class="muted">{meta}</p>
                                                    </li>
                                                }
                                            })
                                            .collect_view()}
                                    </ul>
                                }
                                    .into_any()
                            }
                        })
                }}
            </Transition>
        </div>
    }
}

/// Saves a template: its name, description, project, parameter schema and plan. Every
/// problem the server finds is listed with the field it names; nothing is saved until none
/// is left.
#[component]
fn TemplateEditor(save: ServerAction<SaveWorkflow>) -> impl IntoView {
    let name = RwSignal::new(String::new());
    let description = RwSignal::new(String::new());
    let project = RwSignal::new(String::new());
    let schema = RwSignal::new(EXAMPLE_SCHEMA.to_owned());
    let plan = RwSignal::new(EXAMPLE_PLAN.to_owned());
    let outcome = move || save.value().get();
    view! {
        <section class="card plan-editor" id="template-editor" aria-label="New template">
            <div class="form-row">
                <label class="field">
                    <span>"Name (in URLs: lowercase letters, digits, - and _)"</span>
                    <input
                        id="template-name"
                        required
                        prop:value=move || name.get()
                        on:input=move |ev| name.set(event_target_value(&ev))
                    />
                </label>
                <label class="field">
                    <span>"Project (empty: your default)"</span>
                    <input
                        id="template-project"
                        prop:value=move || project.get()
                        on:input=move |ev| project.set(event_target_value(&ev))
                    />
                </label>
            </div>
            <label class="field">
                <span>"Description"</span>
                <input
                    id="template-description"
                    prop:value=move || description.get()
                    on:input=move |ev| description.set(event_target_value(&ev))
                />
            </label>
            <div class="form-row">
                <label class="field">
                    <span>"Parameters: a JSON Schema of an object"</span>
                    <textarea
                        id="template-schema"
                        class="code"
                        rows="12"
                        spellcheck="false"
                        prop:value=move || schema.get()
                        on:input=move |ev| schema.set(event_target_value(&ev))
                    ></textarea>
                </label>
                <label class="field">
                    <span>"Plan: strings may read {{params.NAME}}"</span>
                    <textarea
                        id="template-plan"
                        class="code"
                        rows="12"
                        spellcheck="false"
                        prop:value=move || plan.get()
                        on:input=move |ev| plan.set(event_target_value(&ev))
                    ></textarea>
                </label>
            </div>
            <div class="plan-actions">
                <button
                    class="button"
                    id="save-template"
                    disabled=move || save.pending().get() || name.with(|n| n.trim().is_empty())
                    on:click=move |_| {
                        save.dispatch(SaveWorkflow {
                            name: name.get_untracked(),
                            description: description.get_untracked(),
                            project: project.get_untracked(),
                            params_schema: schema.get_untracked(),
                            plan: plan.get_untracked(),
                        });
                    }
                >
                    "Save template"
                </button>
            </div>
            {move || match outcome() {
                None => ().into_any(),
                Some(Err(e)) => {
                    view! { <p class="notice notice-error" role="alert" id="template-error">{server_message(&e)}</p> }
                        .into_any()
                }
                Some(Ok(Attempt::Problems { message, issues })) => {
                    let heading = match issues.len() {
                        0 => message,
                        1 => "Not saved: 1 problem".to_owned(),
                        n => format!("Not saved: {n} problems"),
                    };
                    view! {
                        <div class="notice notice-error" role="alert" id="template-problems">
                            <p>{heading}</p>
                            <ul>
                                {issues
                                    .into_iter()
                                    .map(|i| {
                                        let field = i.field.clone();
                                        view! {
                                            <li data-field=field>
                                                <code>{i.field}</code>
                                                " "
                                                {i.message}
                                            </li>
                                        }
                                    })
                                    .collect_view()}
                            </ul>
                        </div>
                    }
                        .into_any()
                }
                Some(Ok(Attempt::Done(saved))) => {
                    let href = format!("/workflows/{}", saved.name);
                    view! {
                        <p class="notice" role="status" id="template-saved">
                            "Saved "
                            <A href=href>{saved.name.clone()}</A>
                            {format!(" version {}.", saved.version)}
                        </p>
                    }
                        .into_any()
                }
            }}
        </section>
    }
}
