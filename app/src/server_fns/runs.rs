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
