//! `/api/v1/workflows`: save and read workflow templates, run one with parameters (optionally
//! waiting for its outputs), and follow a run it started. Every template also gets its own
//! entry in the API document ([`template_paths`]), whose request body is its parameter schema.

use std::time::Duration;

use axum::Json;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use serde::Deserialize;
use serde_json::{Value, json};
use switchyard_protocol::api::workflows::{
    MAX_WAIT_S, SaveTemplate, TemplateList, TemplateView, WorkflowRun,
};
use switchyard_service::Service;

use crate::api::error::ApiError;
use crate::api::json::ApiJson;
use crate::api::principal::Caller;
use crate::api::query::ApiQuery;

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct VersionQuery {
    /// A version other than the newest.
    #[param(minimum = 1)]
    pub version: Option<i64>,
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct WaitQuery {
    /// Wait up to this many seconds (0 to 300) for the run to end, and answer with its
    /// outputs: 200 when it ended in time, 202 with its status when not.
    #[param(minimum = 0, maximum = 300)]
    pub wait: Option<u64>,
}

#[utoipa::path(post, path = "/api/v1/workflows", tag = "workflows", request_body = SaveTemplate,
    responses(
        (status = 201, description = "Saved as the template's next version", body = TemplateView),
        (status = 400, description = "Malformed JSON, an unknown field, a bad name or a description over 2,000 characters", body = crate::api::error::ErrorBody),
        (status = 404, description = "A project the caller is not a member of", body = crate::api::error::ErrorBody),
        (status = 409, description = "The name is taken by a template in another project", body = crate::api::error::ErrorBody),
        (status = 422, description = "`invalid_template`: the schema is not an object schema, a `{{params.NAME}}` names no parameter, or the plan (rendered with sample parameters) breaks the engine's rules; `details` lists every problem with its field", body = crate::api::error::ErrorBody),
        crate::api::error::BodyRefusals,
        crate::api::error::Refusals
    ))]
pub async fn save(
    Caller(who): Caller,
    State(service): State<Service>,
    ApiJson(body): ApiJson<SaveTemplate>,
) -> Result<(StatusCode, Json<TemplateView>), ApiError> {
    let saved = service.save_template(&who, body).await?;
    Ok((StatusCode::CREATED, Json(saved)))
}

#[utoipa::path(get, path = "/api/v1/workflows", tag = "workflows",
    responses(
        (status = 200, description = "The newest version of each template the caller may read, by name", body = TemplateList),
        crate::api::error::Refusals
    ))]
pub async fn list(
    Caller(who): Caller,
    State(service): State<Service>,
) -> Result<Json<TemplateList>, ApiError> {
    Ok(Json(TemplateList {
        templates: service.templates(&who).await?,
    }))
}

#[utoipa::path(get, path = "/api/v1/workflows/{name}", tag = "workflows",
    params(("name" = String, Path, description = "Template name"), VersionQuery),
    responses(
        (status = 200, description = "The template: its parameter schema and plan", body = TemplateView),
        (status = 400, description = "A malformed query", body = crate::api::error::ErrorBody),
        (status = 404, description = "No such template (or version)", body = crate::api::error::ErrorBody),
        crate::api::error::Refusals
    ))]
pub async fn get(
    Caller(who): Caller,
    State(service): State<Service>,
    Path(name): Path<String>,
    ApiQuery(query): ApiQuery<VersionQuery>,
) -> Result<Json<TemplateView>, ApiError> {
    Ok(Json(service.template(&who, &name, query.version).await?))
}

#[utoipa::path(post, path = "/api/v1/workflows/{name}/runs", tag = "workflows",
    params(("name" = String, Path, description = "Template name"), WaitQuery,
        ("Idempotency-Key" = Option<String>, Header, pattern = "^[\\x21-\\x7e]{1,255}$",
            description = "Start the run at most once: a repeat with the same key answers with the first run")),
    request_body(content = Object, description = "The parameters, as the template's `params_schema` describes them (each template's own entry in this document spells its schema out); an empty body counts as `{}`"),
    responses(
        (status = 201, description = "Started", body = WorkflowRun),
        (status = 200, description = "With `?wait`: the run ended in time (its outputs are in the answer); without: a run with this Idempotency-Key already exists", body = WorkflowRun),
        (status = 202, description = "With `?wait`: still going when the time was up", body = WorkflowRun),
        (status = 400, description = "A body that is not JSON, a bad `wait` or a bad Idempotency-Key", body = crate::api::error::ErrorBody),
        (status = 404, description = "No such template", body = crate::api::error::ErrorBody),
        (status = 422, description = "`invalid_params`: the parameters break the template's schema (`details` lists each problem with its field, a JSON pointer such as `/email`), or `invalid_plan`", body = crate::api::error::ErrorBody),
        (status = 503, description = "An admin switched new runs off", body = crate::api::error::ErrorBody),
        crate::api::error::BodyRefusals,
        crate::api::error::Refusals
    ))]
pub async fn run(
    Caller(who): Caller,
    State(service): State<Service>,
    Path(name): Path<String>,
    ApiQuery(query): ApiQuery<WaitQuery>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<(StatusCode, Json<WorkflowRun>), ApiError> {
    if let Some(wait) = query.wait
        && wait > MAX_WAIT_S
    {
        return Err(ApiError::bad_request(format!(
            "wait: at most {MAX_WAIT_S} seconds, not {wait}"
        )));
    }
    let values: Value = if body.iter().all(u8::is_ascii_whitespace) {
        Value::Null
    } else {
        serde_json::from_slice(&body)
            .map_err(|e| ApiError::new(StatusCode::BAD_REQUEST, "invalid_json", e.to_string()))?
    };
    let idempotency_key = headers
        .get("idempotency-key")
        .map(|v| String::from_utf8_lossy(v.as_bytes()).into_owned());
    let started = service
        .run_workflow(&who, &name, &values, idempotency_key)
        .await?;
    let Some(wait) = query.wait else {
        let status = if started.created {
            StatusCode::CREATED
        } else {
            StatusCode::OK
        };
        return Ok((status, Json(started.run)));
    };
    let run = service
        .await_workflow_run(started.run, Duration::from_secs(wait))
        .await?;
    let status = if run.finished {
        StatusCode::OK
    } else {
        StatusCode::ACCEPTED
    };
    Ok((status, Json(run)))
}

#[utoipa::path(get, path = "/api/v1/workflows/{name}/runs/{id}/stream", tag = "workflows",
    params(("name" = String, Path, description = "Template name"), ("id" = String, Path, description = "Run id"),
        crate::api::stream::StreamQuery),
    responses(
        (status = 200, description = "text/event-stream, as `GET /api/v1/runs/{id}/stream`: one message per event, id = seq; ends after the run's last event. Needs only the right to run the template", content_type = "text/event-stream"),
        (status = 400, description = "A malformed query", body = crate::api::error::ErrorBody),
        (status = 404, description = "No such run of this template", body = crate::api::error::ErrorBody),
        crate::api::error::Refusals
    ))]
pub async fn stream(
    Caller(who): Caller,
    State(service): State<Service>,
    Path((name, id)): Path<(String, String)>,
    ApiQuery(query): ApiQuery<crate::api::stream::StreamQuery>,
    headers: HeaderMap,
) -> Result<axum::response::Response, ApiError> {
    service.workflow_run_visible(&who, &name, &id).await?;
    crate::api::stream::open(&service, id, query, &headers).await
}

/// Each template's own entry, `POST /api/v1/workflows/{its name}/runs`, whose request body is
/// its parameter schema, keyed by path: for the API document.
pub fn template_paths(templates: &[TemplateView]) -> serde_json::Map<String, Value> {
    let error = |description: &str| json!({"description": description, "content": {"application/json": {"schema": {"$ref": "#/components/schemas/ErrorBody"}}}});
    let run = |description: &str| json!({"description": description, "content": {"application/json": {"schema": {"$ref": "#/components/schemas/WorkflowRun"}}}});
    templates
        .iter()
        .map(|t| {
            let summary = if t.description.is_empty() {
                format!("Run workflow {}", t.name)
            } else {
                t.description.clone()
            };
            let operation = json!({
                "tags": ["workflows"],
                "operationId": format!("run_workflow_{}", t.name.replace('-', "_")),
                "summary": format!("Run {} (version {})", t.name, t.version),
                "description": summary,
                "parameters": [
                    {"name": "wait", "in": "query", "required": false,
                     "description": "Wait up to this many seconds for the run to end",
                     "schema": {"type": "integer", "minimum": 0, "maximum": MAX_WAIT_S}},
                    {"name": "Idempotency-Key", "in": "header", "required": false,
                     "schema": {"type": "string", "pattern": "^[\\x21-\\x7e]{1,255}$"}}
                ],
                "requestBody": {
                    "required": true,
                    "content": {"application/json": {"schema": t.params_schema}}
                },
                "responses": {
                    "201": run("Started"),
                    "200": run("Ended within `wait` (outputs in the answer), or a repeat of an Idempotency-Key"),
                    "202": run("Still going when `wait` was up"),
                    "400": error("A body that is not JSON, or a bad `wait`"),
                    "401": error("No or bad credentials"),
                    "403": error("The caller may not run this template"),
                    "404": error("The template is gone"),
                    "413": error("A body over the limit"),
                    "415": error("Not JSON"),
                    "422": error("The parameters break the schema: each problem at its field"),
                    "429": error("Over a rate or concurrency limit"),
                    "503": error("An admin switched new runs off")
                }
            });
            (
                format!("/api/v1/workflows/{}/runs", t.name),
                json!({"post": operation}),
            )
        })
        .collect()
}
