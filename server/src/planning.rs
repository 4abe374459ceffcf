//! Goals into plans for `POST /api/v1/runs {"goal": …}`: the planner (model host), the same
//! catalog the engine runs with, and the plan limits; records are kept in the tiered store
//! under `planning/RUN_ID`.

use std::sync::Arc;

use switchyard_inference::{Planner, PlanningRecord};
use switchyard_orchestrator::{Catalog, Limits, Plan};
use switchyard_store::Store;

/// Store key prefix of planning records.
pub const RECORD_PREFIX: &str = "planning/";

/// What the runs API plans with. Cheap to clone.
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
    ) -> Result<(Plan, PlanningRecord), switchyard_inference::PlanningError> {
        self.planner.plan(goal, &self.catalog, &self.limits).await
    }
}

/// Keeps how run `run_id` was planned.
pub async fn keep(store: &Store, run_id: &str, record: &PlanningRecord) -> Result<(), String> {
    let value = serde_json::to_vec(record).map_err(|e| e.to_string())?;
    let key = format!("{RECORD_PREFIX}{run_id}");
    store
        .put_batch(&[(key.as_str(), value.as_slice())])
        .await
        .map(|_| ())
        .map_err(|e| e.to_string())
}

/// How run `run_id` was planned, if it was.
pub async fn read(store: &Store, run_id: &str) -> Result<Option<PlanningRecord>, String> {
    let key = format!("{RECORD_PREFIX}{run_id}");
    let record = store.get(&key).await.map_err(|e| e.to_string())?;
    record
        .map(|r| serde_json::from_slice(&r.value).map_err(|e| e.to_string()))
        .transpose()
}
