//! Submitting a run: a plan as given, or a goal planned by the model into a validated plan.

use switchyard_auth::Permission;
use switchyard_auth::kill::Capability;
use switchyard_auth::projects::{self, ProjectError};
use switchyard_inference::InferenceError;
use switchyard_orchestrator::Plan;
use switchyard_orchestrator::engine::SubmitOptions;
use switchyard_planner::{PlanningError, PlanningRecord};
use switchyard_protocol::api::runs::PlanningProgress;

use crate::Service;
use crate::error::{ErrorKind, ServiceError, require_on};
use crate::principal::Principal;

/// The longest idempotency key accepted.
pub const MAX_IDEMPOTENCY_KEY: usize = 255;

/// What to run.
#[derive(Debug, Clone, Default)]
pub struct Submission {
    /// The steps. Give a plan or a goal, not both.
    pub plan: Option<Plan>,
    /// Words for the model to plan.
    pub goal: Option<String>,
    /// Higher runs first when steps compete for workers.
    pub priority: i32,
    /// Default: an API key's project, or the caller's only project, or `default`.
    pub project: Option<String>,
    /// Creates the run at most once: a repeat answers with the first run.
    pub idempotency_key: Option<String>,
    /// For a goal: the id under which the caller follows its planning as it goes
    /// ([`Service::follow_planning`]); ignored for a plan.
    pub planning_id: Option<String>,
}

pub use switchyard_protocol::api::runs::Planned;

/// A submission's result.
#[derive(Debug, Clone)]
pub struct SubmitOutcome {
    pub run_id: String,
    /// False when a run with the same idempotency key already existed.
    pub created: bool,
    /// For a goal: the plan the model wrote.
    pub planned: Option<Planned>,
}

/// `Ok` for 1 to [`MAX_IDEMPOTENCY_KEY`] visible ASCII characters.
pub fn check_idempotency_key(key: &str) -> Result<(), ServiceError> {
    if !key.is_empty()
        && key.len() <= MAX_IDEMPOTENCY_KEY
        && key.bytes().all(|b| b.is_ascii_graphic())
    {
        return Ok(());
    }
    Err(ServiceError::invalid(format!(
        "Idempotency-Key header: expected 1 to {MAX_IDEMPOTENCY_KEY} visible ASCII characters"
    )))
}

impl Service {
    /// The project something new of `who`'s goes into: the one asked for, else the caller's
    /// default ([`Principal::project_for_new`]); 404 when the caller does not see it or it does
    /// not exist.
    pub(crate) async fn existing_project_for_new(
        &self,
        who: &Principal,
        asked: Option<&str>,
    ) -> Result<String, ServiceError> {
        let project = who.project_for_new(asked).await?;
        projects::require(self.db(), &project)
            .await
            .map_err(|e| match e {
                ProjectError::Db(e) => ServiceError::internal(&e),
                other => ServiceError::not_found(other.to_string()),
            })?;
        Ok(project)
    }

    /// Validates, records and starts a run. A goal is planned first (it needs `Infer` and
    /// the `inference` switch on); a goal the model could not plan is recorded as a failed run
    /// with every attempt kept, and answered 422 `planning_failed` with the run's id.
    pub async fn submit(
        &self,
        who: &Principal,
        submission: Submission,
    ) -> Result<SubmitOutcome, ServiceError> {
        who.require(Permission::WriteRuns).await?;
        require_on(self.switches(), Capability::NewRuns).await?;
        if submission.plan.is_some() == submission.goal.is_some() {
            return Err(ServiceError::invalid(
                "give either plan (the steps) or goal (words to plan), not both or neither",
            ));
        }
        if let Some(key) = &submission.idempotency_key {
            check_idempotency_key(key)?;
        }
        let project = self
            .existing_project_for_new(who, submission.project.as_deref())
            .await?;
        let options = SubmitOptions {
            priority: submission.priority,
            idempotency_key: submission.idempotency_key.map(|key| format!("api:{key}")),
            project,
            started_by: who.recipient(),
            goal: submission.goal.as_deref().map(|g| g.trim().to_owned()),
        };
        let (plan, record) = match (submission.plan, submission.goal) {
            (Some(plan), _) => (plan, None),
            (None, goal) => {
                who.require(Permission::Infer).await?;
                require_on(self.switches(), Capability::Inference).await?;
                let goal = goal.unwrap_or_default();
                let reporter = match (&submission.planning_id, who.recipient()) {
                    (Some(id), Some(me)) => Some(
                        self.planning_watches()
                            .reporter(&me, id)
                            .map_err(|e| ServiceError::invalid(format!("planning id: {e}")))?,
                    ),
                    _ => None,
                };
                let report = |progress: &PlanningProgress| {
                    if let Some(reporter) = &reporter {
                        reporter.report(progress);
                    }
                };
                match self.planning().plan_reporting(&goal, &report).await {
                    Ok((plan, record)) => (plan, Some(record)),
                    Err(PlanningError::Invalid { problems, record }) => {
                        return Err(self.unplanned(who, options, problems, *record).await);
                    }
                    Err(e) => {
                        who.record("runs.plan", "", &format!("failed: {e}")).await;
                        return Err(planning_error(e));
                    }
                }
            }
        };
        let submitted = match self.engine().submit_with(plan.clone(), options).await {
            Ok(submitted) => submitted,
            Err(e) => {
                who.record("runs.create", "", &format!("failed: {e}")).await;
                return Err(e.into());
            }
        };
        let result = if submitted.created {
            "ok"
        } else {
            "ok: existing run for this Idempotency-Key"
        };
        who.record("runs.create", &submitted.run_id, result).await;
        let planned = match record {
            Some(record) => {
                crate::planning::keep(self.store(), &submitted.run_id, &record)
                    .await
                    .map_err(|e| ServiceError::internal(&e))?;
                Some(Planned {
                    cache_hit: record.cache.as_ref().is_some_and(|c| c.hit),
                    model: record.model,
                    attempts: record.attempts.len(),
                    plan,
                })
            }
            None => None,
        };
        Ok(SubmitOutcome {
            run_id: submitted.run_id,
            created: submitted.created,
            planned,
        })
    }

    /// The progress of `who`'s planning `id` (the `planning_id` of a goal they submit, before
    /// or after they submit it): the latest state at once, then each change. People only:
    /// an API key has no one to show it to.
    pub fn follow_planning(
        &self,
        who: &Principal,
        id: &str,
    ) -> Result<tokio::sync::watch::Receiver<Option<PlanningProgress>>, ServiceError> {
        let me = who.recipient().ok_or_else(|| {
            ServiceError::invalid("planning progress is followed by people, not API keys")
        })?;
        self.planning_watches()
            .follow(&me, id)
            .map_err(|e| ServiceError::invalid(format!("planning id: {e}")))
    }

    /// Runs run `id`'s plan again as a new run in the same project, with the same priority,
    /// linked both ways ([`super::lineage`]). A run whose goal could not be planned has no
    /// plan to repeat (400).
    pub async fn rerun(&self, who: &Principal, id: &str) -> Result<SubmitOutcome, ServiceError> {
        who.require(Permission::WriteRuns).await?;
        let state = self.run_state(who, id).await?;
        if state.plan.steps.is_empty() {
            return Err(ServiceError::invalid(format!(
                "run {id} has no plan to run again: its goal could not be planned"
            )));
        }
        let outcome = self
            .submit(
                who,
                Submission {
                    plan: Some((*state.plan).clone()),
                    goal: None,
                    priority: state.priority,
                    project: Some(state.project.clone()),
                    idempotency_key: None,
                    planning_id: None,
                },
            )
            .await?;
        super::lineage::keep(self.store(), &outcome.run_id, id).await?;
        Ok(outcome)
    }

    /// A goal the model could not plan: recorded as a failed run, its attempts kept as the
    /// planning record; 422 `planning_failed` naming the problems, with the run's id and the
    /// attempts (prompt, raw output, problems) in `details`.
    async fn unplanned(
        &self,
        who: &Principal,
        options: SubmitOptions,
        problems: Vec<String>,
        record: PlanningRecord,
    ) -> ServiceError {
        let reason = format!(
            "planning failed: no valid plan in {} attempt(s): {}",
            record.attempts.len(),
            problems.join("; ")
        );
        let submitted = match self
            .engine()
            .record_unplanned(reason.clone(), options)
            .await
        {
            Ok(submitted) => submitted,
            Err(e) => return e.into(),
        };
        if let Err(e) = crate::planning::keep(self.store(), &submitted.run_id, &record).await {
            return ServiceError::internal(&e);
        }
        who.record("runs.create", &submitted.run_id, "failed: planning")
            .await;
        ServiceError::new(ErrorKind::Unprocessable, "planning_failed", reason)
            .with_details(serde_json::json!({"run_id": submitted.run_id, "planning": record}))
    }
}

/// Why a goal got no plan before any run existed: a bad goal, or the model host refused.
fn planning_error(e: PlanningError) -> ServiceError {
    match e {
        PlanningError::BadGoal(message) => ServiceError::invalid(message),
        PlanningError::Inference(e) => inference_error(e),
        PlanningError::Invalid { .. } => {
            ServiceError::internal(&"an invalid plan reached planning_error")
        }
    }
}

/// The model host's refusal as the service answers it: an unknown model 404, a request that
/// cannot be served 400, no model or a full queue 503; an engine failure is internal.
pub(crate) fn inference_error(e: InferenceError) -> ServiceError {
    let kind = match &e {
        InferenceError::UnknownModel(_) => ErrorKind::NotFound,
        InferenceError::PromptTooLong { .. }
        | InferenceError::TooManyTokens { .. }
        | InferenceError::BadRequest(_) => ErrorKind::Invalid,
        InferenceError::Engine(cause) => return ServiceError::internal(cause),
        _ => ErrorKind::Unavailable,
    };
    ServiceError::new(kind, "inference", e.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn idempotency_keys_are_short_visible_ascii() {
        assert!(check_idempotency_key("order-42").is_ok());
        assert!(check_idempotency_key("").is_err());
        assert!(check_idempotency_key("has space").is_err());
        assert!(check_idempotency_key(&"k".repeat(MAX_IDEMPOTENCY_KEY)).is_ok());
        let long = check_idempotency_key(&"k".repeat(MAX_IDEMPOTENCY_KEY + 1)).unwrap_err();
        assert_eq!(long.kind.status(), 400);
        assert!(long.message.contains("Idempotency-Key"), "{}", long.message);
    }
}
