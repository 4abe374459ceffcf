//! Runs for the Runs page.

use leptos::prelude::*;
use switchyard_protocol::RunRow;

/// The newest runs the caller sees (its projects'), at most 100.
#[server(prefix = "/api/fn", endpoint = "recent_runs")]
pub async fn recent_runs() -> Result<Vec<RunRow>, ServerFnError> {
    let (ctx, caller) =
        super::access::require("runs.list", switchyard_auth::Permission::ReadRuns).await?;
    let store = switchyard_orchestrator::store::RunStore::new(ctx.db.clone());
    let runs = store
        .list(None, None, caller.visibility.filter(), 100)
        .await
        .map_err(|e| {
            leptos::logging::error!("listing runs failed: {e}");
            ServerFnError::new("could not list runs")
        })?;
    Ok(runs
        .into_iter()
        .map(|r| RunRow {
            id: r.id,
            status: r.status.as_str().to_owned(),
            events: r.events,
            reason: r.reason,
            project: r.project,
            created_at: r.created_at.to_rfc3339(),
            updated_at: r.updated_at.to_rfc3339(),
        })
        .collect())
}

/// One run with its steps, if the caller sees it: a run in another project answers the same
/// "not found" as a run that does not exist (and the refusal is audited).
#[server(prefix = "/api/fn", endpoint = "run_detail")]
pub async fn run_detail(id: String) -> Result<switchyard_protocol::RunDetail, ServerFnError> {
    use switchyard_protocol::{StepDetail, runs::output_markdown};
    let (ctx, caller) =
        super::access::require("runs.get", switchyard_auth::Permission::ReadRuns).await?;
    let store = switchyard_orchestrator::store::RunStore::new(ctx.db.clone());
    let failed = |e: &dyn std::fmt::Display| {
        leptos::logging::error!("reading run {id} failed: {e}");
        ServerFnError::new("could not read the run")
    };
    let project = store.project_of(&id).await.map_err(|e| failed(&e))?;
    let not_found =
        || super::access::refuse(http::StatusCode::NOT_FOUND, format!("run {id} not found"));
    let Some(project) = project else {
        return Err(not_found());
    };
    if !caller.visibility.sees(&project) {
        caller
            .record(
                &ctx.db,
                "runs.get",
                &format!("run {id}"),
                "denied: not in the caller's projects",
            )
            .await
            .map_err(|e| failed(&e))?;
        return Err(not_found());
    }
    let state = store.state(&id).await.map_err(|e| failed(&e))?;
    let steps = state
        .steps
        .iter()
        .zip(state.plan.steps.iter())
        .map(|(step, spec)| StepDetail {
            key: step.key.clone(),
            agent: spec.agent.clone(),
            tool: spec.tool.clone(),
            status: step.status.as_str().to_owned(),
            attempt: step.attempt,
            max_attempts: step.max_attempts,
            output: step.output.as_ref().map(output_markdown),
            error: step.error.clone(),
        })
        .collect();
    Ok(switchyard_protocol::RunDetail {
        id,
        status: state.status.as_str().to_owned(),
        project: state.project,
        reason: state.reason,
        events: state.last_seq,
        steps,
    })
}
