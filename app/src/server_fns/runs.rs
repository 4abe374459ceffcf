//! Runs for the Runs page.

use leptos::prelude::*;
use switchyard_protocol::RunRow;

/// The newest runs, at most 100.
#[server(prefix = "/api/fn", endpoint = "recent_runs")]
pub async fn recent_runs() -> Result<Vec<RunRow>, ServerFnError> {
    let ctx = crate::context::server_context()?;
    let store = switchyard_orchestrator::store::RunStore::new(ctx.db.clone());
    let runs = store.list(None, None, 100).await.map_err(|e| {
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
            created_at: r.created_at.to_rfc3339(),
            updated_at: r.updated_at.to_rfc3339(),
        })
        .collect())
}
