//! `/api/v1/runs` and `/api/v1/approvals`: submit runs, follow them, steer them. Each
//! handler reads the request, calls its use case in [`switchyard_service`], and shapes the
//! answer; the rules live in the service.

use axum::Json;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use serde::Deserialize;
use switchyard_protocol::api::runs::{
    Decision, EventList, Reason, RunCreated, RunList, RunView, SubmitRun,
};
use switchyard_service::Service;
use switchyard_service::runs::read::ListRuns;
use switchyard_service::runs::steer::{Steer, Verdict};
use switchyard_service::runs::submit::Submission;

use crate::api::error::ApiError;
use crate::api::json::ApiJson;
use crate::api::principal::Caller;
use crate::api::query::ApiQuery;

pub use switchyard_service::runs::MAX_PAGE;
pub use switchyard_service::runs::steer::PendingApproval;

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ListQuery {
    /// Only runs with this status (`queued`, `running`, `paused`, `awaiting_approval`,
    /// `compensating`, `succeeded`, `failed`, `cancelled`).
    #[param(value_type = Option<switchyard_protocol::RunStatus>)]
    pub status: Option<String>,
    /// Page size, 1–500 (default 50); outside that range is 400, not clamped.
    #[param(minimum = 1, maximum = 500)]
    pub limit: Option<u32>,
    /// Cursor: the `next` value of the previous page.
    pub before: Option<String>,
    /// Only runs in this project (an empty page for a project the caller does not see).
    pub project: Option<String>,
    /// Only runs whose id contains this text (any case; `%` and `_` are literal).
    pub id_contains: Option<String>,
    /// Only runs whose goal or id contains this text (any case; `%` and `_` are literal).
    pub q: Option<String>,
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct EventsQuery {
    /// Only events with a larger `seq` (default 0: all).
    #[param(value_type = Option<i64>, minimum = 0)]
    pub after: Option<u64>,
}

#[utoipa::path(post, path = "/api/v1/runs", tag = "runs", request_body = SubmitRun,
    params(("Idempotency-Key" = Option<String>, Header, pattern = "^[\\x21-\\x7e]{1,255}$",
        description = "Create the run at most once: a repeat with the same key answers 200 with the first run's id. 1 to 255 visible ASCII characters")),
    responses(
        (status = 201, description = "Validated, recorded and started", body = RunCreated),
        (status = 200, description = "A run with this Idempotency-Key already exists", body = RunCreated),
        (status = 400, description = "Malformed JSON, an unknown field, both or neither of plan and goal, or a bad Idempotency-Key", body = crate::api::error::ErrorBody),
        (status = 404, description = "A project the caller is not a member of", body = crate::api::error::ErrorBody),
        (status = 422, description = "The plan has problems (`invalid_plan`; `details` lists every one), or the model wrote no valid plan for the goal (`planning_failed`)", body = crate::api::error::ErrorBody),
        (status = 503, description = "An admin switched new runs off (the message gives the reason), or a goal was given and no model is configured to plan it", body = crate::api::error::ErrorBody),
        crate::api::error::BodyRefusals,
        crate::api::error::Refusals
    ))]
pub async fn submit(
    Caller(who): Caller,
    State(service): State<Service>,
    headers: axum::http::HeaderMap,
    ApiJson(body): ApiJson<SubmitRun>,
) -> Result<(StatusCode, Json<RunCreated>), ApiError> {
    // A header that is not text fails the service's check on visible ASCII.
    let idempotency_key = headers
        .get("idempotency-key")
        .map(|v| String::from_utf8_lossy(v.as_bytes()).into_owned());
    let submission = Submission {
        plan: body.plan,
        goal: body.goal,
        priority: body.priority,
        project: body.project,
        idempotency_key,
        planning_id: None,
    };
    let outcome = service.submit(&who, submission).await?;
    let status = if outcome.created {
        StatusCode::CREATED
    } else {
        StatusCode::OK
    };
    Ok((
        status,
        Json(RunCreated {
            id: outcome.run_id,
            planned: outcome.planned,
        }),
    ))
}

#[utoipa::path(get, path = "/api/v1/runs/{id}/planning", tag = "runs",
    params(("id" = String, Path, description = "Run id")),
    responses(
        (status = 200, description = "How the run's goal was planned: every prompt, raw answer and problem", body = Object),
        (status = 404, description = "No such run, or the run was submitted with a plan", body = crate::api::error::ErrorBody),
        crate::api::error::Refusals
    ))]
pub async fn planning_record(
    Caller(who): Caller,
    State(service): State<Service>,
    Path(id): Path<String>,
) -> Result<Json<switchyard_planner::PlanningRecord>, ApiError> {
    Ok(Json(service.planning_record(&who, &id).await?))
}

#[utoipa::path(get, path = "/api/v1/runs", tag = "runs", params(ListQuery),
    responses(
        (status = 200, description = "Runs, newest first", body = RunList),
        (status = 400, description = "Bad status, limit or cursor", body = crate::api::error::ErrorBody),
        crate::api::error::Refusals
    ))]
pub async fn list(
    Caller(who): Caller,
    State(service): State<Service>,
    ApiQuery(query): ApiQuery<ListQuery>,
) -> Result<Json<RunList>, ApiError> {
    let page = service
        .list_runs(
            &who,
            ListRuns {
                status: query.status,
                limit: query.limit,
                before: query.before,
                project: query.project,
                id_part: query.id_contains,
                text: query.q,
            },
        )
        .await?;
    Ok(Json(RunList {
        runs: page.runs,
        next: page.next,
    }))
}

#[utoipa::path(get, path = "/api/v1/runs/{id}", tag = "runs",
    params(("id" = String, Path, description = "Run id")),
    responses(
        (status = 200, description = "The run's state: plan, status, every step", body = RunView),
        (status = 404, description = "No such run", body = crate::api::error::ErrorBody),
        crate::api::error::Refusals
    ))]
pub async fn get(
    Caller(who): Caller,
    State(service): State<Service>,
    Path(id): Path<String>,
) -> Result<Json<RunView>, ApiError> {
    Ok(Json(service.run_state(&who, &id).await?.view()))
}

#[utoipa::path(get, path = "/api/v1/runs/{id}/events", tag = "runs",
    params(("id" = String, Path, description = "Run id"), EventsQuery),
    responses(
        (status = 200, description = "The run's log after `after`, in order", body = EventList),
        (status = 400, description = "A malformed query", body = crate::api::error::ErrorBody),
        (status = 404, description = "No such run", body = crate::api::error::ErrorBody),
        crate::api::error::Refusals
    ))]
pub async fn events(
    Caller(who): Caller,
    State(service): State<Service>,
    Path(id): Path<String>,
    ApiQuery(query): ApiQuery<EventsQuery>,
) -> Result<Json<EventList>, ApiError> {
    let events = service
        .run_events(&who, &id, crate::api::query::seq_cursor(query.after)?)
        .await?;
    Ok(Json(EventList { events }))
}

/// Parses an optional JSON body: empty means defaults.
fn optional_body<T: Default + serde::de::DeserializeOwned>(body: &Bytes) -> Result<T, ApiError> {
    if body.iter().all(u8::is_ascii_whitespace) {
        return Ok(T::default());
    }
    serde_json::from_slice(body)
        .map_err(|e| ApiError::new(StatusCode::BAD_REQUEST, "invalid_json", e.to_string()))
}

macro_rules! run_command {
    ($name:ident, $path:literal, $what:literal, $steer:ident) => {
        #[utoipa::path(post, path = $path, tag = "runs",
            params(("id" = String, Path, description = "Run id")),
            request_body(content = Reason, description = "Optional"),
            responses(
                (status = 204, description = $what),
                (status = 400, description = "A body that is not the optional `{\"reason\"}`", body = crate::api::error::ErrorBody),
                (status = 404, description = "No such run", body = crate::api::error::ErrorBody),
                (status = 409, description = "Not possible in the run's state", body = crate::api::error::ErrorBody),
                crate::api::error::Refusals
            ))]
        pub async fn $name(
            Caller(who): Caller,
            State(service): State<Service>,
            Path(id): Path<String>,
            body: Bytes,
        ) -> Result<StatusCode, ApiError> {
            let Reason { reason } = optional_body(&body)?;
            service.steer(&who, &id, Steer::$steer, reason).await?;
            Ok(StatusCode::NO_CONTENT)
        }
    };
}

run_command!(cancel, "/api/v1/runs/{id}/cancel", "Cancelled", Cancel);
run_command!(pause, "/api/v1/runs/{id}/pause", "Paused", Pause);
run_command!(resume, "/api/v1/runs/{id}/resume", "Resumed", Resume);

macro_rules! step_decision {
    ($name:ident, $path:literal, $what:literal, $verdict:ident) => {
        #[utoipa::path(post, path = $path, tag = "approvals",
            params(("id" = String, Path, description = "Run id"), ("step" = String, Path, description = "Step key")),
            request_body = Decision,
            responses(
                (status = 204, description = $what),
                (status = 400, description = "Missing rationale or malformed JSON", body = crate::api::error::ErrorBody),
                (status = 404, description = "No such run or step", body = crate::api::error::ErrorBody),
                (status = 409, description = "The step is not awaiting approval", body = crate::api::error::ErrorBody),
        crate::api::error::BodyRefusals,
        crate::api::error::Refusals
    ))]
        pub async fn $name(
            Caller(who): Caller,
            State(service): State<Service>,
            Path((id, step)): Path<(String, String)>,
            ApiJson(decision): ApiJson<Decision>,
        ) -> Result<StatusCode, ApiError> {
            service
                .decide(&who, &id, &step, Verdict::$verdict, decision.rationale)
                .await?;
            Ok(StatusCode::NO_CONTENT)
        }
    };
}

step_decision!(
    approve,
    "/api/v1/runs/{id}/steps/{step}/approve",
    "Approved: the step runs",
    Approve
);
step_decision!(
    reject,
    "/api/v1/runs/{id}/steps/{step}/reject",
    "Rejected: the run fails and compensates",
    Reject
);

#[utoipa::path(get, path = "/api/v1/approvals", tag = "approvals",
    responses((status = 200, description = "Steps waiting for a person", body = Vec<PendingApproval>),
        crate::api::error::Refusals
    ))]
pub async fn approvals(
    Caller(who): Caller,
    State(service): State<Service>,
) -> Result<Json<Vec<PendingApproval>>, ApiError> {
    Ok(Json(service.approvals(&who).await?))
}
