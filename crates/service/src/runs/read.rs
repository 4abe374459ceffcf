//! Reading runs: a page of the listing, one run's state and event log, how its goal was
//! planned, and the views the pages show (rows, one run with its steps).

use switchyard_auth::Permission;
use switchyard_orchestrator::runlog::RunSummary;
use switchyard_orchestrator::{RunEvent, RunState, RunStatus};
use switchyard_planner::PlanningRecord;
use switchyard_protocol::runs::output_markdown;
use switchyard_protocol::{RunDetail, RunRow, StepDetail};

use super::{DEFAULT_PAGE, MAX_PAGE};
use crate::Service;
use crate::error::ServiceError;
use crate::principal::Principal;

/// Which runs to list.
#[derive(Debug, Clone, Default)]
pub struct ListRuns {
    /// Only runs with this status (its name, as `queued` or `awaiting_approval`).
    pub status: Option<String>,
    /// Page size, 1 to [`MAX_PAGE`] (default [`DEFAULT_PAGE`]); beyond is refused, not cut.
    pub limit: Option<u32>,
    /// Cursor: the `next` of the previous page.
    pub before: Option<String>,
}

/// A page of runs, newest first.
#[derive(Debug, Clone)]
pub struct RunPage {
    pub runs: Vec<RunSummary>,
    /// Pass as `before` for the next page; `None` on the last page.
    pub next: Option<String>,
}

impl Service {
    /// Runs in the projects `who` sees, newest first.
    pub async fn list_runs(
        &self,
        who: &Principal,
        query: ListRuns,
    ) -> Result<RunPage, ServiceError> {
        who.require(Permission::ReadRuns).await?;
        let status = match query.status.as_deref() {
            None => None,
            Some(s) => Some(RunStatus::parse(s).ok_or_else(|| {
                ServiceError::invalid(format!(
                    "status '{s}' is not one of queued, running, paused, awaiting_approval, \
                     compensating, succeeded, failed, cancelled"
                ))
            })?),
        };
        let limit = query.limit.unwrap_or(DEFAULT_PAGE);
        if !(1..=MAX_PAGE).contains(&limit) {
            return Err(ServiceError::invalid(format!(
                "limit {limit} is outside 1–{MAX_PAGE}"
            )));
        }
        let runs = self
            .runs()
            .list(
                status,
                query.before.as_deref(),
                who.visibility.filter(),
                limit,
            )
            .await
            .map_err(|e| ServiceError::internal(&e))?;
        let next = (runs.len() == limit as usize)
            .then(|| runs.last().map(|r| r.id.clone()))
            .flatten();
        Ok(RunPage { runs, next })
    }

    /// Run `id`'s state: plan, status, every step.
    pub async fn run_state(&self, who: &Principal, id: &str) -> Result<RunState, ServiceError> {
        who.require(Permission::ReadRuns).await?;
        self.visible_run(who, id).await?;
        Ok(self.engine().state(id).await?)
    }

    /// Run `id`'s log after `after` (0: all), in order.
    pub async fn run_events(
        &self,
        who: &Principal,
        id: &str,
        after: u64,
    ) -> Result<Vec<RunEvent>, ServiceError> {
        who.require(Permission::ReadRuns).await?;
        self.visible_run(who, id).await?;
        self.engine().state(id).await?;
        self.runs()
            .events(id, after)
            .await
            .map_err(|e| ServiceError::internal(&e))
    }

    /// How run `id`'s goal was planned: every prompt, raw answer and problem; 404 for a run
    /// submitted with a plan.
    pub async fn planning_record(
        &self,
        who: &Principal,
        id: &str,
    ) -> Result<PlanningRecord, ServiceError> {
        who.require(Permission::ReadRuns).await?;
        self.visible_run(who, id).await?;
        crate::planning::read(self.store(), id)
            .await
            .map_err(|e| ServiceError::internal(&e))?
            .ok_or_else(|| {
                ServiceError::not_found(format!(
                    "run {id} was submitted with a plan, not planned from a goal"
                ))
            })
    }

    /// The newest runs `who` sees, as the runs table shows them.
    pub async fn recent_runs(
        &self,
        who: &Principal,
        limit: u32,
    ) -> Result<Vec<RunRow>, ServiceError> {
        let page = self
            .list_runs(
                who,
                ListRuns {
                    limit: Some(limit),
                    ..ListRuns::default()
                },
            )
            .await?;
        Ok(page
            .runs
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

    /// Run `id` with its steps, as its page shows it; the same engine state the API answers.
    pub async fn run_detail(&self, who: &Principal, id: &str) -> Result<RunDetail, ServiceError> {
        let state = self.run_state(who, id).await?;
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
        Ok(RunDetail {
            id: id.to_owned(),
            status: state.status.as_str().to_owned(),
            project: state.project,
            reason: state.reason,
            events: state.last_seq,
            steps,
        })
    }
}
