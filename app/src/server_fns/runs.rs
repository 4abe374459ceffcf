//! Runs for the Runs page and a run's page: the service's use cases, as the pages show them.
//! (`run_detail` names its answer by path: the macro makes a `RunDetail` of its own.)

use leptos::prelude::*;
use switchyard_protocol::RunRow;

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
