//! Runs for the Runs page and a run's page: the service's use cases, as the pages show them.
//! (`run_detail` names its answer by path: the macro makes a `RunDetail` of its own.)

use leptos::prelude::*;
use switchyard_protocol::{PlanIssue, RunRow};

/// The newest runs the caller sees (its projects'), at most 100.
#[server(prefix = "/api/fn", endpoint = "recent_runs")]
pub async fn recent_runs() -> Result<Vec<RunRow>, ServerFnError> {
    use super::access::{refused, service_and_caller};
    let (service, who) = service_and_caller("runs.list")?;
    service.recent_runs(&who, 100).await.map_err(refused)
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
