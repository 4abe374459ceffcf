//! The approvals inbox: the steps waiting for a person in the caller's projects, and the
//! decision on one. The same use cases as `GET /api/v1/approvals` and
//! `POST /api/v1/runs/{id}/steps/{step}/approve|reject`.

use leptos::prelude::*;
use switchyard_protocol::api::runs::PendingApproval;

/// Every step waiting for a person that the caller may see.
#[server(prefix = "/api/fn", endpoint = "pending_approvals")]
pub async fn pending_approvals() -> Result<Vec<PendingApproval>, ServerFnError> {
    use super::access::{refused, service_and_caller};
    let (service, who) = service_and_caller("approvals.list")?;
    service.approvals(&who).await.map_err(refused)
}

/// How many steps wait for a person that the caller may see (the sidebar's count).
#[server(prefix = "/api/fn", endpoint = "approvals_waiting")]
pub async fn approvals_waiting() -> Result<usize, ServerFnError> {
    use super::access::{refused, service_and_caller};
    let (service, who) = service_and_caller("approvals.list")?;
    service.approvals_waiting(&who).await.map_err(refused)
}

/// Approves (`approve = true`) or rejects step `step` of run `run_id`, with a rationale
/// (required; recorded with the decision).
#[server(prefix = "/api/fn", endpoint = "decide_step")]
pub async fn decide_step(
    run_id: String,
    step: String,
    approve: bool,
    rationale: String,
) -> Result<(), ServerFnError> {
    use super::access::{refused, service_and_caller};
    use switchyard_service::runs::steer::Verdict;
    let (action, verdict) = if approve {
        ("runs.approve", Verdict::Approve)
    } else {
        ("runs.reject", Verdict::Reject)
    };
    let (service, who) = service_and_caller(action)?;
    service
        .decide(&who, &run_id, &step, verdict, rationale)
        .await
        .map_err(refused)
}
