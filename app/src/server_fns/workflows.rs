//! Workflow templates for the Workflows pages: the list, one template's page, saving one and
//! starting a run from its form. A refusal the person can fix (a bad schema, a parameter that
//! breaks it) comes back as [`Attempt::Problems`], each problem at its field, with the same
//! messages the REST API gives.

use leptos::prelude::*;
use switchyard_protocol::api::workflows::{Attempt, TemplatePage, TemplateView};

/// The newest version of each template the caller may read.
#[server(prefix = "/api/fn", endpoint = "workflow_list")]
pub async fn workflow_list() -> Result<Vec<TemplateView>, ServerFnError> {
    use super::access::{refused, service_and_caller};
    let (service, who) = service_and_caller("workflows.list")?;
    service.templates(&who).await.map_err(refused)
}

/// Template `name` with its newest runs.
#[server(prefix = "/api/fn", endpoint = "workflow_page")]
pub async fn workflow_page(name: String) -> Result<TemplatePage, ServerFnError> {
    use super::access::{refused, service_and_caller};
    let (service, who) = service_and_caller("workflows.get")?;
    let template = service.template(&who, &name, None).await.map_err(refused)?;
    let runs = service
        .template_runs(&who, &name, 10)
        .await
        .map_err(refused)?;
    Ok(TemplatePage {
        may_run: who.may_run_workflow(&name),
        template,
        runs,
    })
}

/// The problems of a refusal the person can fix; `None` for any other error.
#[cfg(feature = "ssr")]
fn problems<T>(e: &switchyard_service::ServiceError) -> Option<Attempt<T>> {
    use switchyard_protocol::api::workflows::FieldIssue;
    if e.kind != switchyard_service::ErrorKind::Unprocessable {
        return None;
    }
    let issues: Vec<FieldIssue> = e
        .details
        .as_deref()
        .and_then(|d| serde_json::from_value(d.clone()).ok())
        .unwrap_or_default();
    Some(Attempt::Problems {
        message: e.message.clone(),
        issues,
    })
}

/// Starts a run of template `name` with `params` (JSON text of an object); answers the run's
/// id, or the parameters' problems field by field.
#[server(prefix = "/api/fn", endpoint = "start_workflow")]
pub async fn start_workflow(
    name: String,
    params: String,
) -> Result<Attempt<String>, ServerFnError> {
    use super::access::{refused, service_and_caller};
    use switchyard_protocol::api::workflows::FieldIssue;
    let (service, who) = service_and_caller("workflows.run")?;
    let values: serde_json::Value = match serde_json::from_str(&params) {
        Ok(values) => values,
        Err(e) => {
            return Ok(Attempt::Problems {
                message: format!("the parameters are not JSON: {e}"),
                issues: vec![FieldIssue {
                    field: String::new(),
                    message: format!("not JSON: {e}"),
                }],
            });
        }
    };
    match service.run_workflow(&who, &name, &values, None).await {
        Ok(started) => Ok(Attempt::Done(started.run.id)),
        Err(e) => problems(&e).map_or_else(|| Err(refused(e)), Ok),
    }
}

/// Saves a template from the editor: `params_schema` and `plan` are JSON text.
#[server(prefix = "/api/fn", endpoint = "save_workflow")]
pub async fn save_workflow(
    name: String,
    description: String,
    project: String,
    params_schema: String,
    plan: String,
) -> Result<Attempt<TemplateView>, ServerFnError> {
    use super::access::{refused, service_and_caller};
    use switchyard_protocol::api::workflows::{FieldIssue, SaveTemplate};
    let (service, who) = service_and_caller("workflows.save")?;
    let mut unreadable = Vec::new();
    let mut parse = |field: &str, text: &str| {
        serde_json::from_str::<serde_json::Value>(text).unwrap_or_else(|e| {
            unreadable.push(FieldIssue {
                field: field.to_owned(),
                message: format!("not JSON: {e}"),
            });
            serde_json::Value::Null
        })
    };
    let params_schema = parse("params_schema", &params_schema);
    let plan = parse("plan", &plan);
    if !unreadable.is_empty() {
        return Ok(Attempt::Problems {
            message: "the template has problems".into(),
            issues: unreadable,
        });
    }
    let body = SaveTemplate {
        name: name.trim().to_owned(),
        description: description.trim().to_owned(),
        project: Some(project.trim().to_owned()).filter(|p| !p.is_empty()),
        params_schema,
        plan,
    };
    match service.save_template(&who, body).await {
        Ok(saved) => Ok(Attempt::Done(saved)),
        Err(e) => problems(&e).map_or_else(|| Err(refused(e)), Ok),
    }
}
