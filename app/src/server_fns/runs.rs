//! Runs for the Runs page and a run's page: the service's use cases, as the pages show them.
//! (`run_detail` names its answer by path: the macro makes a `RunDetail` of its own.)

use leptos::prelude::*;
use switchyard_protocol::{BulkOutcome, PlanIssue, RunRows};

/// Runs per page of the runs table.
pub const RUNS_PER_PAGE: u32 = 50;

/// A page of the runs the caller sees (its projects'), newest first: only those with `status`,
/// in `project`, whose goal or id contains `text`, created before run `before` (the previous page's
/// `next`) — each when given.
#[server(prefix = "/api/fn", endpoint = "runs_page")]
pub async fn runs_page(
    status: Option<String>,
    project: Option<String>,
    text: Option<String>,
    before: Option<String>,
) -> Result<RunRows, ServerFnError> {
    use super::access::{refused, service_and_caller};
    use switchyard_service::runs::read::ListRuns;
    let (service, who) = service_and_caller("runs.list")?;
    let given = |v: Option<String>| v.filter(|v| !v.trim().is_empty());
    let query = ListRuns {
        status: given(status),
        limit: Some(RUNS_PER_PAGE),
        before: given(before),
        project: given(project),
        id_part: None,
        text: given(text),
    };
    service.run_rows(&who, query).await.map_err(refused)
}

/// Cancels each run of `ids` (separated by commas) with `reason`, one by one, each checked
/// and audited as a single cancel; answers what became of each.
#[server(prefix = "/api/fn", endpoint = "cancel_runs")]
pub async fn cancel_runs(ids: String, reason: String) -> Result<Vec<BulkOutcome>, ServerFnError> {
    use super::access::{refused, service_and_caller};
    let (service, who) = service_and_caller("runs.cancel")?;
    let ids: Vec<&str> = ids
        .split(',')
        .map(str::trim)
        .filter(|id| !id.is_empty())
        .collect();
    let reason = Some(reason)
        .filter(|r| !r.trim().is_empty())
        .or_else(|| Some("cancelled from the Runs page, with others".to_owned()));
    service
        .cancel_many(&who, &ids, reason)
        .await
        .map_err(refused)
}

/// One run with its steps, if the caller sees it: a run in another project answers the same
/// "not found" as a run that does not exist (and the refusal is audited).
#[server(prefix = "/api/fn", endpoint = "run_detail")]
pub async fn run_detail(id: String) -> Result<switchyard_protocol::RunDetail, ServerFnError> {
    use super::access::{refused, service_and_caller};
    let (service, who) = service_and_caller("runs.get")?;
    service.run_detail(&who, &id).await.map_err(refused)
}

/// The problems of a plan written in the browser (JSON), each at its step and field; empty
/// when the engine would take it. Nothing is submitted.
#[server(prefix = "/api/fn", endpoint = "check_plan")]
pub async fn check_plan(plan: String) -> Result<Vec<PlanIssue>, ServerFnError> {
    use super::access::{refused, service_and_caller};
    let (service, who) = service_and_caller("runs.check")?;
    service.check_plan(&who, &plan).await.map_err(refused)
}

/// Starts a run of a plan written in the browser; answers the new run's id. A plan with
/// problems is refused with all of them (check it first to place them).
#[server(prefix = "/api/fn", endpoint = "start_run")]
pub async fn start_run(plan: String) -> Result<String, ServerFnError> {
    use super::access::{refuse, refused, service_and_caller};
    use switchyard_service::runs::submit::Submission;
    let (service, who) = service_and_caller("runs.create")?;
    let plan = serde_json::from_str(&plan).map_err(|e| {
        refuse(
            http::StatusCode::BAD_REQUEST,
            format!("the plan is not valid JSON: {e}"),
        )
    })?;
    let submission = Submission {
        plan: Some(plan),
        goal: None,
        priority: 0,
        project: None,
        idempotency_key: None,
        planning_id: None,
    };
    let outcome = service.submit(&who, submission).await.map_err(refused)?;
    Ok(outcome.run_id)
}

/// Starts a run from a goal: the model plans it (or the plan cache answers) and the plan is
/// validated; answers the new run's id. A goal the model could not plan is refused with the
/// reason (the failed run and its attempts are kept). With `planning`, the tab's live socket
/// follows the planning under that id as it goes.
#[server(prefix = "/api/fn", endpoint = "start_goal")]
pub async fn start_goal(goal: String, planning: Option<String>) -> Result<String, ServerFnError> {
    use super::access::{refused, service_and_caller};
    use switchyard_service::runs::submit::Submission;
    let (service, who) = service_and_caller("runs.create")?;
    let submission = Submission {
        plan: None,
        goal: Some(goal),
        priority: 0,
        project: None,
        idempotency_key: None,
        planning_id: planning.filter(|id| !id.is_empty()),
    };
    let outcome = service.submit(&who, submission).await.map_err(refused)?;
    Ok(outcome.run_id)
}

/// Cancels (`action = "cancel"`, with `reason`), pauses or resumes run `id`; refused when the
/// run's state does not allow it, with the reason.
#[server(prefix = "/api/fn", endpoint = "steer_run")]
pub async fn steer_run(
    id: String,
    action: String,
    reason: Option<String>,
) -> Result<(), ServerFnError> {
    use super::access::{refuse, refused, service_and_caller};
    use switchyard_service::runs::steer::Steer;
    let (steer, audited) = match action.as_str() {
        "cancel" => (Steer::Cancel, "runs.cancel"),
        "pause" => (Steer::Pause, "runs.pause"),
        "resume" => (Steer::Resume, "runs.resume"),
        other => {
            return Err(refuse(
                http::StatusCode::BAD_REQUEST,
                format!("action '{other}' is not one of cancel, pause, resume"),
            ));
        }
    };
    let (service, who) = service_and_caller(audited)?;
    let reason = reason.filter(|r| !r.trim().is_empty());
    service
        .steer(&who, &id, steer, reason)
        .await
        .map_err(refused)
}

/// Runs run `id`'s plan again as a new run, linked to it; answers the new run's id.
#[server(prefix = "/api/fn", endpoint = "rerun_run")]
pub async fn rerun_run(id: String) -> Result<String, ServerFnError> {
    use super::access::{refused, service_and_caller};
    let (service, who) = service_and_caller("runs.rerun")?;
    let outcome = service.rerun(&who, &id).await.map_err(refused)?;
    Ok(outcome.run_id)
}
