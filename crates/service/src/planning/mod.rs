//! Goals into plans for a run submitted with a goal: the planner (model host), the same
//! catalog the engine runs with, and the plan limits; how each goal was planned is kept in
//! the tiered store under `planning/RUN_ID`; [`watch`]: plannings a tab follows as they go.

pub mod watch;

use std::sync::Arc;

use switchyard_orchestrator::{Catalog, Limits, Plan};
use switchyard_planner::{Planner, PlanningRecord};
use switchyard_protocol::api::runs::PlanningProgress;
use switchyard_store::Store;

/// Store key prefix of planning records.
pub const RECORD_PREFIX: &str = "planning/";

/// What the runs use cases plan with. Cheap to clone.
#[derive(Debug, Clone)]
pub struct Planning {
    pub planner: Planner,
    pub catalog: Arc<Catalog>,
    pub limits: Limits,
}

impl Planning {
    pub async fn plan(
        &self,
        goal: &str,
    ) -> Result<(Plan, PlanningRecord), switchyard_planner::PlanningError> {
        self.planner.plan(goal, &self.catalog, &self.limits).await
    }

    /// [`Self::plan`], each step of it handed to `report`.
    pub async fn plan_reporting(
        &self,
        goal: &str,
        report: &(dyn Fn(&PlanningProgress) + Send + Sync),
    ) -> Result<(Plan, PlanningRecord), switchyard_planner::PlanningError> {
        self.planner
            .plan_reporting(goal, &self.catalog, &self.limits, report)
            .await
    }
}

/// Why a planning record could not be kept or read.
#[derive(Debug, thiserror::Error)]
pub enum RecordError {
    #[error("the store failed: {0}")]
    Store(#[from] switchyard_store::StoreError),
    #[error("a planning record is not valid JSON: {0}")]
    Json(#[from] serde_json::Error),
}

/// Keeps how run `run_id` was planned.
pub async fn keep(store: &Store, run_id: &str, record: &PlanningRecord) -> Result<(), RecordError> {
    let value = serde_json::to_vec(record)?;
    let key = format!("{RECORD_PREFIX}{run_id}");
    store.put_batch(&[(key.as_str(), value.as_slice())]).await?;
    Ok(())
}

/// How run `run_id` was planned, if it was.
pub async fn read(store: &Store, run_id: &str) -> Result<Option<PlanningRecord>, RecordError> {
    let key = format!("{RECORD_PREFIX}{run_id}");
    let record = store.get(&key).await?;
    Ok(record
        .map(|r| serde_json::from_slice(&r.value))
        .transpose()?)
}
