//! `/api/v1/runs` and `/api/v1/approvals`: submit runs, follow them, steer them.

use axum::Json;
use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use serde::{Deserialize, Serialize};
use switchyard_auth::kill::Capability;
use switchyard_inference::{InferenceError, PlanningError};
use switchyard_orchestrator::engine::{Engine, RunCommand, SubmitOptions};
use switchyard_orchestrator::store::{RunStore, RunSummary};
use switchyard_orchestrator::{Plan, RunEvent, RunState, RunStatus, StepStatus};
use utoipa::ToSchema;

use crate::api::error::ApiError;
use crate::api::json::ApiJson;
use crate::api::principal::Principal;
use switchyard_auth::Permission;
use switchyard_auth::projects::{self, ProjectError};

/// Most runs one listing page returns.
pub const MAX_PAGE: u32 = 500;

/// `POST /api/v1/runs`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SubmitRun {
    /// The plan: `{"steps": [{"key", "agent", "tool", "input", "depends_on", …}]}`. Give a
    /// plan or a goal, not both.
    #[schema(value_type = Option<Object>)]
    pub plan: Option<Plan>,
    /// A goal in words, planned by the default model (or `planner_model`) into a validated
    /// plan; how it was planned is kept (`GET /api/v1/runs/{id}/planning`).
    pub goal: Option<String>,
    /// Higher runs first when steps compete for workers. Default 0.
    #[serde(default)]
    pub priority: i32,
    /// The project the run belongs to. Default: an API key's project, or the caller's only
    /// project, or `default`.
    pub project: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct RunCreated {
    pub id: String,
    /// For a goal: the plan the model wrote and the attempts it took.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<Object>)]
    pub planned: Option<Planned>,
}

/// What planning a goal produced.
#[derive(Debug, Serialize)]
pub struct Planned {
    pub model: String,
    /// The model's tries (0 when the plan came from the cache).
    pub attempts: usize,
    /// Whether the semantic plan cache supplied the plan.
    pub cache_hit: bool,
    pub plan: Plan,
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
pub struct ListQuery {
    /// Only runs with this status (`queued`, `running`, `paused`, `awaiting_approval`,
    /// `compensating`, `succeeded`, `failed`, `cancelled`).
    pub status: Option<String>,
    /// Page size, 1–500 (default 50).
    pub limit: Option<u32>,
    /// Cursor: the `next` value of the previous page.
    pub before: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct RunList {
    #[schema(value_type = Vec<Object>)]
    pub runs: Vec<RunSummary>,
    /// Pass as `before` for the next page; absent on the last page.
    pub next: Option<String>,
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
pub struct EventsQuery {
    /// Only events with a larger `seq` (default 0: all).
    pub after: Option<u64>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct EventList {
    #[schema(value_type = Vec<Object>)]
    pub events: Vec<RunEvent>,
}

/// Body of approve and reject.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Decision {
    /// Why: recorded with the decision. Required.
    pub rationale: String,
}

/// Optional body of cancel, pause and resume.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Reason {
    pub reason: Option<String>,
}

/// A step waiting for a person.
#[derive(Debug, Serialize, ToSchema)]
pub struct PendingApproval {
    pub run_id: String,
    pub step: String,
    pub agent: String,
    pub tool: String,
    pub risk: f64,
    #[schema(value_type = Object)]
    pub input: serde_json::Value,
}

/// The longest `Idempotency-Key` accepted.
const MAX_IDEMPOTENCY_KEY: usize = 255;

#[utoipa::path(post, path = "/api/v1/runs", tag = "runs", request_body = SubmitRun,
    params(("Idempotency-Key" = Option<String>, Header,
        description = "Create the run at most once: a repeat with the same key answers 200 with the first run's id")),
    responses(
        (status = 201, description = "Validated, recorded and started", body = RunCreated),
        (status = 200, description = "A run with this Idempotency-Key already exists", body = RunCreated),
        (status = 400, description = "Malformed JSON or unknown field", body = crate::api::error::ErrorBody),
        (status = 422, description = "The plan has problems; `details` lists every one", body = crate::api::error::ErrorBody),
        (status = 503, description = "An admin switched new runs off; the message gives the reason", body = crate::api::error::ErrorBody)
    ))]
pub async fn submit(
    who: Principal,
    State(app): State<crate::state::AppState>,
    headers: axum::http::HeaderMap,
    ApiJson(body): ApiJson<SubmitRun>,
) -> Result<(StatusCode, Json<RunCreated>), ApiError> {
    let crate::state::AppState {
        engine,
        runs: store,
        switches,
        planning,
        store: tiered,
        ..
    } = app;
    who.require(Permission::WriteRuns).await?;
    crate::api::error::require_on(&switches, Capability::NewRuns).await?;
    if body.plan.is_some() == body.goal.is_some() {
        return Err(ApiError::bad_request(
            "give either plan (the steps) or goal (words to plan), not both or neither",
        ));
    }
    let idempotency_key = match headers.get("idempotency-key") {
        None => None,
        Some(value) => Some(idempotency_key(value)?),
    };
    let project = who.project_for_new(body.project.as_deref()).await?;
    projects::require(store.database(), &project)
        .await
        .map_err(|e| match e {
            ProjectError::Db(e) => ApiError::internal(&e),
            other => ApiError::new(StatusCode::NOT_FOUND, "not_found", other.to_string()),
        })?;
    let options = SubmitOptions {
        priority: body.priority,
        idempotency_key: idempotency_key.map(|key| format!("api:{key}")),
        project,
    };
    let (plan, record) = match (body.plan, body.goal) {
        (Some(plan), _) => (plan, None),
        (None, goal) => {
            who.require(Permission::Infer).await?;
            crate::api::error::require_on(&switches, Capability::Inference).await?;
            let goal = goal.unwrap_or_default();
            match planning.plan(&goal).await {
                Ok((plan, record)) => (plan, Some(record)),
                Err(PlanningError::Invalid { problems, record }) => {
                    return Err(
                        unplanned(&who, &engine, &tiered, options, problems, *record).await,
                    );
                }
                Err(e) => {
                    who.record("runs.plan", "", &format!("failed: {e}")).await;
                    return Err(planning_error(e));
                }
            }
        }
    };
    let submitted = match engine.submit_with(plan.clone(), options).await {
        Ok(submitted) => submitted,
        Err(e) => {
            who.record("runs.create", "", &format!("failed: {e}")).await;
            return Err(e.into());
        }
    };
    let result = if submitted.created {
        "ok"
    } else {
        "ok: existing run for this Idempotency-Key"
    };
    who.record("runs.create", &submitted.run_id, result).await;
    let planned = match record {
        Some(record) => {
            crate::planning::keep(&tiered, &submitted.run_id, &record)
                .await
                .map_err(|e| ApiError::internal(&e))?;
            Some(Planned {
                cache_hit: record.cache.as_ref().is_some_and(|c| c.hit),
                model: record.model,
                attempts: record.attempts.len(),
                plan,
            })
        }
        None => None,
    };
    let status = if submitted.created {
        StatusCode::CREATED
    } else {
        StatusCode::OK
    };
    Ok((
        status,
        Json(RunCreated {
            id: submitted.run_id,
            planned,
        }),
    ))
}

/// A goal the model could not plan: the run is recorded as failed, with every attempt kept
/// as its planning record, and the answer is 422 `planning_failed` naming the problems, with
/// the run's id and the attempts (prompt, raw output, problems) in `details`.
async fn unplanned(
    who: &Principal,
    engine: &Engine,
    tiered: &switchyard_store::Store,
    options: SubmitOptions,
    problems: Vec<String>,
    record: switchyard_inference::PlanningRecord,
) -> ApiError {
    let reason = format!(
        "planning failed: no valid plan in {} attempt(s): {}",
        record.attempts.len(),
        problems.join("; ")
    );
    let submitted = match engine.record_unplanned(reason.clone(), options).await {
        Ok(submitted) => submitted,
        Err(e) => return e.into(),
    };
    if let Err(e) = crate::planning::keep(tiered, &submitted.run_id, &record).await {
        return ApiError::internal(&e);
    }
    who.record("runs.create", &submitted.run_id, "failed: planning")
        .await;
    ApiError {
        details: Some(serde_json::json!({"run_id": submitted.run_id, "planning": record})),
        ..ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, "planning_failed", reason)
    }
}

/// Why a goal got no plan before any run existed: a bad goal, or the model host refused.
fn planning_error(e: PlanningError) -> ApiError {
    let e = match e {
        PlanningError::BadGoal(message) => return ApiError::bad_request(message),
        PlanningError::Inference(e) => e,
        PlanningError::Invalid { .. } => {
            return ApiError::internal(&"an invalid plan reached planning_error");
        }
    };
    let status = match &e {
        InferenceError::UnknownModel(_) => StatusCode::NOT_FOUND,
        InferenceError::PromptTooLong { .. }
        | InferenceError::TooManyTokens { .. }
        | InferenceError::BadRequest(_) => StatusCode::BAD_REQUEST,
        InferenceError::Engine(cause) => return ApiError::internal(cause),
        _ => StatusCode::SERVICE_UNAVAILABLE,
    };
    ApiError::new(status, "inference", e.to_string())
}

#[utoipa::path(get, path = "/api/v1/runs/{id}/planning", tag = "runs",
    params(("id" = String, Path, description = "Run id")),
    responses(
        (status = 200, description = "How the run's goal was planned: every prompt, raw answer and problem", body = Object),
        (status = 404, description = "No such run, or the run was submitted with a plan", body = crate::api::error::ErrorBody)
    ))]
pub async fn planning_record(
    who: Principal,
    State(store): State<RunStore>,
    State(tiered): State<switchyard_store::Store>,
    Path(id): Path<String>,
) -> Result<Json<switchyard_inference::PlanningRecord>, ApiError> {
    who.require(Permission::ReadRuns).await?;
    visible(&who, &store, &id).await?;
    match crate::planning::read(&tiered, &id)
        .await
        .map_err(|e| ApiError::internal(&e))?
    {
        Some(record) => Ok(Json(record)),
        None => Err(ApiError::new(
            StatusCode::NOT_FOUND,
            "not_found",
            format!("run {id} was submitted with a plan, not planned from a goal"),
        )),
    }
}

fn idempotency_key(value: &axum::http::HeaderValue) -> Result<String, ApiError> {
    let key = value
        .to_str()
        .ok()
        .filter(|k| !k.is_empty() && k.len() <= MAX_IDEMPOTENCY_KEY && k.bytes().all(|b| b.is_ascii_graphic()))
        .ok_or_else(|| {
            ApiError::bad_request(format!(
                "Idempotency-Key header: expected 1 to {MAX_IDEMPOTENCY_KEY} visible ASCII characters"
            ))
        })?;
    Ok(key.to_owned())
}

#[utoipa::path(get, path = "/api/v1/runs", tag = "runs", params(ListQuery),
    responses(
        (status = 200, description = "Runs, newest first", body = RunList),
        (status = 400, description = "Bad status or limit", body = crate::api::error::ErrorBody)
    ))]
pub async fn list(
    who: Principal,
    State(store): State<RunStore>,
    Query(query): Query<ListQuery>,
) -> Result<Json<RunList>, ApiError> {
    who.require(Permission::ReadRuns).await?;
    let status = match query.status.as_deref() {
        None => None,
        Some(s) => Some(RunStatus::parse(s).ok_or_else(|| {
            ApiError::bad_request(format!(
                "status '{s}' is not one of queued, running, paused, awaiting_approval, \
                 compensating, succeeded, failed, cancelled"
            ))
        })?),
    };
    let limit = query.limit.unwrap_or(50);
    if !(1..=MAX_PAGE).contains(&limit) {
        return Err(ApiError::bad_request(format!(
            "limit {limit} is outside 1–{MAX_PAGE}"
        )));
    }
    let runs = store
        .list(
            status,
            query.before.as_deref(),
            who.visibility.filter(),
            limit,
        )
        .await
        .map_err(|e| ApiError::internal(&e))?;
    let next = (runs.len() == limit as usize)
        .then(|| runs.last().map(|r| r.id.clone()))
        .flatten();
    Ok(Json(RunList { runs, next }))
}

#[utoipa::path(get, path = "/api/v1/runs/{id}", tag = "runs",
    params(("id" = String, Path, description = "Run id")),
    responses(
        (status = 200, description = "The run's state: plan, status, every step", body = Object),
        (status = 404, description = "No such run", body = crate::api::error::ErrorBody)
    ))]
pub async fn get(
    who: Principal,
    State(engine): State<Engine>,
    State(store): State<RunStore>,
    Path(id): Path<String>,
) -> Result<Json<RunState>, ApiError> {
    who.require(Permission::ReadRuns).await?;
    visible(&who, &store, &id).await?;
    Ok(Json(engine.state(&id).await?))
}

#[utoipa::path(get, path = "/api/v1/runs/{id}/events", tag = "runs",
    params(("id" = String, Path, description = "Run id"), EventsQuery),
    responses(
        (status = 200, description = "The run's log after `after`, in order", body = EventList),
        (status = 404, description = "No such run", body = crate::api::error::ErrorBody)
    ))]
pub async fn events(
    who: Principal,
    State(engine): State<Engine>,
    State(store): State<RunStore>,
    Path(id): Path<String>,
    Query(query): Query<EventsQuery>,
) -> Result<Json<EventList>, ApiError> {
    who.require(Permission::ReadRuns).await?;
    visible(&who, &store, &id).await?;
    engine.state(&id).await?;
    let events = store
        .events(&id, query.after.unwrap_or(0))
        .await
        .map_err(|e| ApiError::internal(&e))?;
    Ok(Json(EventList { events }))
}

/// `Ok` if run `id` exists in a project the caller sees; the same 404 otherwise.
pub async fn visible(who: &Principal, store: &RunStore, id: &str) -> Result<(), ApiError> {
    let project = store
        .project_of(id)
        .await
        .map_err(|e| ApiError::internal(&e))?;
    who.see(project.as_deref(), &format!("run {id}")).await
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
    ($name:ident, $path:literal, $what:literal, |$who:ident, $reason:ident| $command:expr) => {
        #[utoipa::path(post, path = $path, tag = "runs",
            params(("id" = String, Path, description = "Run id")),
            request_body(content = Reason, description = "Optional"),
            responses(
                (status = 204, description = $what),
                (status = 404, description = "No such run", body = crate::api::error::ErrorBody),
                (status = 409, description = "Not possible in the run's state", body = crate::api::error::ErrorBody)
            ))]
        pub async fn $name(
            $who: Principal,
            State(engine): State<Engine>,
            State(store): State<RunStore>,
            Path(id): Path<String>,
            body: Bytes,
        ) -> Result<StatusCode, ApiError> {
            $who.require(Permission::WriteRuns).await?;
            visible(&$who, &store, &id).await?;
            let Reason { reason: $reason } = optional_body(&body)?;
            let principal = $who.clone();
            let done = engine.command(&id, $command).await;
            let result = done.as_ref().map_or_else(|e| format!("failed: {e}"), |_| "ok".into());
            principal
                .record(concat!("runs.", stringify!($name)), &id, &result)
                .await;
            done?;
            Ok(StatusCode::NO_CONTENT)
        }
    };
}

run_command!(
    cancel,
    "/api/v1/runs/{id}/cancel",
    "Cancelled",
    |who, reason| RunCommand::Cancel {
        by: who.name,
        reason: reason.unwrap_or_else(|| "cancelled through the API".into()),
    }
);
run_command!(
    pause,
    "/api/v1/runs/{id}/pause",
    "Paused",
    |who, _reason| RunCommand::Pause { by: who.name }
);
run_command!(
    resume,
    "/api/v1/runs/{id}/resume",
    "Resumed",
    |who, _reason| RunCommand::Resume { by: who.name }
);

macro_rules! step_decision {
    ($name:ident, $path:literal, $what:literal, $variant:ident) => {
        #[utoipa::path(post, path = $path, tag = "approvals",
            params(("id" = String, Path, description = "Run id"), ("step" = String, Path, description = "Step key")),
            request_body = Decision,
            responses(
                (status = 204, description = $what),
                (status = 400, description = "Missing rationale or malformed JSON", body = crate::api::error::ErrorBody),
                (status = 404, description = "No such run or step", body = crate::api::error::ErrorBody),
                (status = 409, description = "The step is not awaiting approval", body = crate::api::error::ErrorBody)
            ))]
        pub async fn $name(
            who: Principal,
            State(engine): State<Engine>,
            State(store): State<RunStore>,
            Path((id, step)): Path<(String, String)>,
            ApiJson(decision): ApiJson<Decision>,
        ) -> Result<StatusCode, ApiError> {
            who.require(Permission::Approve).await?;
            visible(&who, &store, &id).await?;
            if decision.rationale.trim().is_empty() {
                return Err(ApiError::bad_request("rationale must not be empty"));
            }
            let target = format!("{id}/{step}");
            let command = RunCommand::$variant {
                step,
                by: who.name.clone(),
                rationale: decision.rationale,
            };
            let done = engine.command(&id, command).await;
            let result = done.as_ref().map_or_else(|e| format!("failed: {e}"), |_| "ok".into());
            who.record(concat!("runs.", stringify!($name)), &target, &result).await;
            done?;
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
    responses((status = 200, description = "Steps waiting for a person", body = Vec<PendingApproval>)))]
pub async fn approvals(
    who: Principal,
    State(engine): State<Engine>,
    State(store): State<RunStore>,
) -> Result<Json<Vec<PendingApproval>>, ApiError> {
    who.require(Permission::ReadRuns).await?;
    let waiting = store
        .awaiting_approval()
        .await
        .map_err(|e| ApiError::internal(&e))?;
    let mut pending = Vec::with_capacity(waiting.len());
    for (run_id, key) in waiting {
        let Ok(state) = engine.state(&run_id).await else {
            continue;
        };
        if !who.visibility.sees(&state.project) {
            continue;
        }
        let Some(index) = state.steps.iter().position(|s| s.key == key) else {
            continue;
        };
        if state.steps[index].status != StepStatus::AwaitingApproval {
            continue;
        }
        let spec = &state.plan.steps[index];
        pending.push(PendingApproval {
            run_id,
            step: key,
            agent: spec.agent.clone(),
            tool: spec.tool.clone(),
            risk: state.steps[index].risk,
            input: spec.input.clone(),
        });
    }
    Ok(Json(pending))
}
