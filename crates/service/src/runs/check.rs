//! Checking a plan written by hand, before anything is submitted: every problem the engine
//! would refuse it for, each placed at its step and field, against the catalog and limits
//! the engine runs with.

use switchyard_auth::Permission;
use switchyard_orchestrator::{Plan, validate};
use switchyard_protocol::PlanIssue;

use crate::Service;
use crate::error::ServiceError;
use crate::principal::Principal;

impl Service {
    /// The problems of plan `text` (JSON); empty when the engine would take it as it is.
    /// Text that is not a plan is one problem at field `json`, naming line and column.
    pub async fn check_plan(
        &self,
        who: &Principal,
        text: &str,
    ) -> Result<Vec<PlanIssue>, ServiceError> {
        who.require(Permission::WriteRuns).await?;
        let plan: Plan = match serde_json::from_str(text) {
            Ok(plan) => plan,
            Err(e) => {
                return Ok(vec![PlanIssue {
                    index: None,
                    step: None,
                    field: "json".into(),
                    message: e.to_string(),
                }]);
            }
        };
        let planning = self.planning();
        Ok(match validate(plan, &planning.catalog, &planning.limits) {
            Ok(_) => Vec::new(),
            Err(problems) => problems
                .0
                .into_iter()
                .map(|p| PlanIssue {
                    index: p.index,
                    step: p.step,
                    field: p.field,
                    message: p.message,
                })
                .collect(),
        })
    }
}
