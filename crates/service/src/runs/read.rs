//! Reading runs: a page of the listing, one run's state and event log, how its goal was
//! planned, and the views the pages show (rows, one run with its steps).

use switchyard_auth::Permission;
use switchyard_orchestrator::runlog::{RunFilter, RunSummary};
use switchyard_orchestrator::{RunEvent, RunState, RunStatus};
use switchyard_planner::PlanningRecord;
use switchyard_protocol::runs::{HISTORY_LIMIT, output_markdown, usage_line};
use switchyard_protocol::{PlanAttemptView, PlanningView, RunDetail, RunRow, RunRows, StepDetail};

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
    /// Only runs in this project (none when the caller does not see it).
    pub project: Option<String>,
    /// Only runs whose id contains this text (any case).
    pub id_part: Option<String>,
    /// Only runs whose goal or id contains this text (any case).
    pub text: Option<String>,
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
        // A project named narrows what the caller sees; it never widens it.
        let projects: Option<Vec<String>> = match (&query.project, who.visibility.filter()) {
            (Some(one), Some(seen)) => Some(seen.iter().filter(|p| *p == one).cloned().collect()),
            (Some(one), None) => Some(vec![one.clone()]),
            (None, seen) => seen.map(<[String]>::to_vec),
        };
        let lowered = |text: &Option<String>| {
            text.as_deref()
                .map(str::trim)
                .filter(|part| !part.is_empty())
                .map(str::to_lowercase)
        };
        let id_part = lowered(&query.id_part);
        let text = lowered(&query.text);
        let filter = RunFilter {
            status,
            before: query.before.as_deref(),
            projects: projects.as_deref(),
            id_part: id_part.as_deref(),
            text: text.as_deref(),
        };
        let runs = self
            .runs()
            .list_matching(&filter, limit)
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

    /// A page of the runs `who` sees, as the runs table shows them, with the cursor of the
    /// next page.
    pub async fn run_rows(
        &self,
        who: &Principal,
        query: ListRuns,
    ) -> Result<RunRows, ServiceError> {
        let page = self.list_runs(who, query).await?;
        let projects = match who.visibility.filter() {
            Some(seen) => seen.to_vec(),
            None => switchyard_auth::projects::list(self.db())
                .await
                .map_err(|e| ServiceError::internal(&e))?
                .into_iter()
                .map(|p| p.name)
                .collect(),
        };
        let rows = page
            .runs
            .into_iter()
            .map(|r| RunRow {
                id: r.id,
                status: r.status.as_str().to_owned(),
                events: r.events,
                reason: r.reason,
                project: r.project,
                goal: r.goal,
                created_at: r.created_at.to_rfc3339(),
                updated_at: r.updated_at.to_rfc3339(),
            })
            .collect();
        Ok(RunRows {
            rows,
            next: page.next,
            projects,
        })
    }

    /// Run `id` with its steps, as its page shows it; the same engine state the API answers.
    pub async fn run_detail(&self, who: &Principal, id: &str) -> Result<RunDetail, ServiceError> {
        let state = self.run_state(who, id).await?;
        let events = self
            .runs()
            .events(id, 0)
            .await
            .map_err(|e| ServiceError::internal(&e))?;
        let now = chrono::Utc::now();
        let history = events
            .iter()
            .skip(events.len().saturating_sub(HISTORY_LIMIT))
            .map(super::history::row)
            .collect();
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
                depends_on: spec.depends_on.clone(),
                risk: step.risk,
                gated: step.risk >= state.approval_threshold,
                output: step.output.as_ref().map(output_markdown),
                error: step.error.clone(),
                figures: step
                    .output
                    .as_ref()
                    .and_then(|o| o.get("usage"))
                    .and_then(usage_line),
            })
            .collect();
        let planning = crate::planning::read(self.store(), id)
            .await
            .map_err(|e| ServiceError::internal(&e))?
            .map(planning_view);
        let (rerun_of, reruns) = super::lineage::read(self.store(), id).await?;
        let (parent, children) = self
            .runs()
            .family(id)
            .await
            .map_err(|e| ServiceError::internal(&e))?;
        let workflow = self.run_template(who, id).await?;
        let graph_svg = super::graph::svg(&state);
        let timeline_svg = super::timeline::svg(&state, &events, now);
        Ok(RunDetail {
            id: id.to_owned(),
            status: state.status.as_str().to_owned(),
            project: state.project,
            reason: state.reason,
            events: state.last_seq,
            graph_svg,
            timeline_svg,
            history,
            planning,
            rerun_of,
            reruns,
            parent,
            children,
            workflow,
            steps,
        })
    }
}

/// How a goal was planned, as the run's page shows it.
fn planning_view(record: PlanningRecord) -> PlanningView {
    let cache_hit = record.cache.as_ref().is_some_and(|c| c.hit);
    let cache = record.cache.map(|c| match (c.hit, c.matched, c.similarity) {
        (true, Some(matched), Some(similarity)) => format!(
            "the plan cache answered: goals like \"{matched}\" (similarity {similarity:.2}) were planned before; no model call"
        ),
        (true, _, _) => "the plan cache answered: this goal was planned before; no model call".to_owned(),
        (false, _, _) => format!(
            "the plan cache had no plan for goals like \"{}\"; the model planned it",
            c.template
        ),
    });
    let attempts = record
        .attempts
        .into_iter()
        .map(|a| PlanAttemptView {
            prompt: a.prompt.into_iter().map(|m| (m.role, m.content)).collect(),
            raw_output: a.raw_output,
            problems: a.problems,
            figures: a
                .usage
                .and_then(|u| serde_json::to_value(u).ok())
                .as_ref()
                .and_then(usage_line),
        })
        .collect();
    PlanningView {
        goal: record.goal,
        model: record.model,
        cache,
        cache_hit,
        attempts,
    }
}
