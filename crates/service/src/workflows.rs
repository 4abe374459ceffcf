//! Workflow templates as use cases: save one (checked as it will run), list and read them,
//! run one with a caller's parameters (checked field by field against its schema), wait for
//! a run's end, and say which runs a template started. The templates themselves, their
//! schemas and rendering are in `switchyard-workflows`.

use std::time::Duration;

use serde_json::{Map, Value};
use switchyard_auth::Permission;
use switchyard_auth::kill::Capability;
use switchyard_orchestrator::engine::SubmitOptions;
use switchyard_orchestrator::{Plan, RunState, validate};
use switchyard_orchestrator::{RunStatus, StepStatus};
use switchyard_protocol::api::workflows::{
    FieldIssue, MAX_DESCRIPTION_CHARS, SaveTemplate, TemplateView, WorkflowRun,
};
use switchyard_workflows::params::{self, ParamsSchema};
use switchyard_workflows::{FieldError, NewTemplate, Template, name, store};

use crate::Service;
use crate::error::{ErrorKind, ServiceError, require_on};
use crate::principal::{Identity, Principal};

/// A run started from a template.
#[derive(Debug, Clone)]
pub struct Started {
    pub run: WorkflowRun,
    /// False when a run with the same idempotency key already existed.
    pub created: bool,
}

fn db_error(e: sqlx::Error) -> ServiceError {
    ServiceError::internal(&e)
}

fn issues(errors: Vec<FieldError>) -> Vec<FieldIssue> {
    errors
        .into_iter()
        .map(|e| FieldIssue {
            field: e.field,
            message: e.message,
        })
        .collect()
}

/// 422 `code` listing every problem, each placed at its field.
fn unprocessable(code: &'static str, what: &str, problems: Vec<FieldIssue>) -> ServiceError {
    let summary: Vec<String> = problems
        .iter()
        .map(|p| {
            if p.field.is_empty() {
                p.message.clone()
            } else {
                format!("{}: {}", p.field, p.message)
            }
        })
        .collect();
    ServiceError::new(
        ErrorKind::Unprocessable,
        code,
        format!("{what}: {}", summary.join("; ")),
    )
    .with_details(serde_json::to_value(&problems).unwrap_or(Value::Null))
}

fn view(template: Template, versions: i64) -> TemplateView {
    TemplateView {
        name: template.name,
        version: template.version,
        project: template.project,
        description: template.description,
        params_schema: template.params_schema,
        plan: template.plan,
        created_by: template.created_by,
        created_at_ms: template.created_at_ms,
        versions,
    }
}

impl Service {
    /// Saves `body` as the next version of its template. Everything is checked first and every
    /// problem reported at once: the name, the parameters' schema, each `{{params.…}}` (it
    /// must name a declared parameter), and the plan rendered with sample parameters against
    /// the catalog, as the engine would check it. Nothing is stored unless all pass.
    pub async fn save_template(
        &self,
        who: &Principal,
        body: SaveTemplate,
    ) -> Result<TemplateView, ServiceError> {
        who.require(Permission::WriteRuns).await?;
        name::check(&body.name).map_err(ServiceError::invalid)?;
        if body.description.chars().count() > MAX_DESCRIPTION_CHARS {
            return Err(ServiceError::invalid(format!(
                "description: at most {MAX_DESCRIPTION_CHARS} characters"
            )));
        }
        let project = self
            .existing_project_for_new(who, body.project.as_deref())
            .await?;
        let existing = store::get(self.db(), &body.name, None)
            .await
            .map_err(db_error)?;
        if let Some(existing) = &existing
            && existing.project != project
        {
            return Err(ServiceError::conflict(format!(
                "the template name {} is taken in another project; a new version stays in its project",
                body.name
            )));
        }
        let problems = self.template_problems(&body.params_schema, &body.plan);
        if !problems.is_empty() {
            who.record("workflows.save", &body.name, "failed: invalid template")
                .await;
            return Err(unprocessable(
                "invalid_template",
                "the template has problems",
                problems,
            ));
        }
        let saved = store::save(
            self.db(),
            &NewTemplate {
                name: &body.name,
                project: &project,
                description: &body.description,
                params_schema: &body.params_schema,
                plan: &body.plan,
                created_by: &who.name,
            },
        )
        .await
        .map_err(db_error)?;
        who.record(
            "workflows.save",
            &body.name,
            &format!("ok: version {}", saved.version),
        )
        .await;
        let versions = saved.version;
        Ok(view(saved, versions))
    }

    /// Every problem of a template's schema and plan; empty when it can be saved.
    fn template_problems(&self, schema: &Value, plan: &Value) -> Vec<FieldIssue> {
        let schema = match ParamsSchema::new(schema) {
            Ok(schema) => schema,
            Err(e) => return issues(vec![e]),
        };
        if !plan.is_object() {
            return issues(vec![FieldError::new(
                "plan",
                "must be a plan: an object with \"steps\"",
            )]);
        }
        let (refs, mut problems) = params::references(plan);
        for reference in &refs {
            if !schema.declares(&reference.path) {
                problems.push(FieldError::new(
                    format!("plan{}", reference.location),
                    format!(
                        "{{{{params.{}}}}} names no property of params_schema",
                        reference.path.join(".")
                    ),
                ));
            }
        }
        // The plan is checked as well, with sample parameters (an unknown one reads as
        // `null`), so that every problem is reported at once.
        let rendered = params::render(plan, &schema.sample());
        let mut found = issues(problems);
        let plan: Plan = match serde_json::from_value(rendered) {
            Ok(plan) => plan,
            Err(e) if found.is_empty() => {
                return issues(vec![FieldError::new("plan", e.to_string())]);
            }
            Err(_) => return found,
        };
        let planning = self.planning();
        if let Err(plan_problems) = validate(plan, &planning.catalog, &planning.limits) {
            found.extend(plan_problems.0.into_iter().map(|p| FieldIssue {
                field: match p.index {
                    Some(i) => format!("plan/steps/{i}/{}", p.field.replace('.', "/")),
                    None => format!("plan/{}", p.field.replace('.', "/")),
                },
                message: p.message,
            }));
        }
        found
    }

    /// The newest version of each template the caller may read.
    pub async fn templates(&self, who: &Principal) -> Result<Vec<TemplateView>, ServiceError> {
        let named =
            matches!(&who.identity, Identity::Key { workflows, .. } if !workflows.is_empty());
        if !named && !who.may(Permission::RunWorkflows) {
            who.require(Permission::ReadRuns).await?;
        }
        let all = store::list(self.db()).await.map_err(db_error)?;
        Ok(all
            .into_iter()
            .filter(|t| who.visibility.sees(&t.project) && who.may_read_workflow(&t.name))
            .map(|t| {
                let versions = t.version;
                view(t, versions)
            })
            .collect())
    }

    /// Template `name` (its newest version, or `version`); 404 when it does not exist or
    /// is in a project the caller does not see; 403 when the caller may neither read runs
    /// nor run it.
    pub async fn template(
        &self,
        who: &Principal,
        name: &str,
        version: Option<i64>,
    ) -> Result<TemplateView, ServiceError> {
        if !who.may_read_workflow(name) {
            who.require(Permission::ReadRuns).await?;
        }
        let template = self.visible_template(who, name, version).await?;
        let versions = store::versions(self.db(), name).await.map_err(db_error)?;
        Ok(view(template, versions))
    }

    async fn visible_template(
        &self,
        who: &Principal,
        name: &str,
        version: Option<i64>,
    ) -> Result<Template, ServiceError> {
        let what = match version {
            Some(v) => format!("workflow template {name} version {v}"),
            None => format!("workflow template {name}"),
        };
        let template = store::get(self.db(), name, version)
            .await
            .map_err(db_error)?;
        who.see(template.as_ref().map(|t| t.project.as_str()), &what)
            .await?;
        template.ok_or_else(|| ServiceError::not_found(format!("{what} not found")))
    }

    /// Starts a run of template `name`'s newest version with `values` (a JSON object; `null`
    /// counts as `{}`): they are checked against its schema (422 `invalid_params`, every
    /// problem at its field, nothing started), defaults filled in, put into the plan, and the
    /// plan submitted in the template's project. With an idempotency key a repeat answers
    /// with the first run.
    pub async fn run_workflow(
        &self,
        who: &Principal,
        name: &str,
        values: &Value,
        idempotency_key: Option<String>,
    ) -> Result<Started, ServiceError> {
        who.require_workflow(name).await?;
        let template = self.visible_template(who, name, None).await?;
        require_on(self.switches(), Capability::NewRuns).await?;
        if let Some(key) = &idempotency_key {
            crate::runs::submit::check_idempotency_key(key)?;
        }
        if !matches!(values, Value::Object(_) | Value::Null) {
            return Err(unprocessable(
                "invalid_params",
                "the parameters have problems",
                vec![FieldIssue {
                    field: String::new(),
                    message: "the parameters must be a JSON object".into(),
                }],
            ));
        }
        let schema = ParamsSchema::new(&template.params_schema)
            .map_err(|e| ServiceError::internal(&e.message))?;
        let values = schema.check(values).map_err(|errors| {
            unprocessable(
                "invalid_params",
                "the parameters have problems",
                issues(errors),
            )
        })?;
        let plan: Plan =
            serde_json::from_value(params::render(&template.plan, &values)).map_err(|e| {
                unprocessable(
                    "invalid_params",
                    "the parameters make no valid plan",
                    vec![FieldIssue {
                        field: String::new(),
                        message: e.to_string(),
                    }],
                )
            })?;
        let options = SubmitOptions {
            priority: 0,
            idempotency_key: idempotency_key.map(|key| format!("workflow:{}:{key}", template.name)),
            project: template.project.clone(),
            started_by: who.recipient(),
            goal: None,
        };
        let submitted = match self.engine().submit_with(plan, options).await {
            Ok(submitted) => submitted,
            Err(e) => {
                who.record("workflows.run", name, &format!("failed: {e}"))
                    .await;
                return Err(e.into());
            }
        };
        store::link_run(self.db(), &submitted.run_id, name, template.version)
            .await
            .map_err(db_error)?;
        who.record(
            "workflows.run",
            &submitted.run_id,
            &format!("ok: {name} version {}", template.version),
        )
        .await;
        let state = self.engine().state(&submitted.run_id).await?;
        Ok(Started {
            run: workflow_run(&submitted.run_id, name, template.version, &state),
            created: submitted.created,
        })
    }

    /// Waits up to `wait` for run `run.id` to end, and answers with its state then (its
    /// outputs once it has ended).
    pub async fn await_workflow_run(
        &self,
        run: WorkflowRun,
        wait: Duration,
    ) -> Result<WorkflowRun, ServiceError> {
        let deadline = tokio::time::Instant::now() + wait;
        let mut bus = self.engine().subscribe();
        loop {
            let state = self.engine().state(&run.id).await?;
            if state.status.is_final() || tokio::time::Instant::now() >= deadline {
                return Ok(workflow_run(&run.id, &run.template, run.version, &state));
            }
            // Woken by any event of this run; re-read at least every second in case the
            // event came through another process.
            let tick = tokio::time::sleep_until(
                deadline.min(tokio::time::Instant::now() + Duration::from_secs(1)),
            );
            tokio::pin!(tick);
            loop {
                tokio::select! {
                    _ = &mut tick => break,
                    received = bus.recv() => match received {
                        Ok((id, _)) if id == run.id => break,
                        Ok(_) => {}
                        Err(_) => break,
                    },
                }
            }
        }
    }

    /// `Ok` when run `id` was started from template `name` and the caller may run that
    /// template and see the run; the same 404 otherwise.
    pub async fn workflow_run_visible(
        &self,
        who: &Principal,
        name: &str,
        id: &str,
    ) -> Result<(), ServiceError> {
        who.require_workflow(name).await?;
        let origin = store::run_origin(self.db(), id).await.map_err(db_error)?;
        if origin.is_none_or(|(origin, _)| origin != name) {
            return Err(ServiceError::not_found(format!(
                "run {id} of workflow {name} not found"
            )));
        }
        self.visible_run(who, id).await
    }

    /// The template a run was started from, if the caller may read it: `(name, version)`.
    pub async fn run_template(
        &self,
        who: &Principal,
        id: &str,
    ) -> Result<Option<(String, i64)>, ServiceError> {
        let origin = store::run_origin(self.db(), id).await.map_err(db_error)?;
        Ok(origin.filter(|(name, _)| who.may_read_workflow(name)))
    }

    /// The newest runs of template `name` (at most `limit`), for its page.
    pub async fn template_runs(
        &self,
        who: &Principal,
        name: &str,
        limit: i64,
    ) -> Result<Vec<String>, ServiceError> {
        self.visible_template(who, name, None).await?;
        store::runs_of(self.db(), name, limit)
            .await
            .map_err(db_error)
    }
}

fn workflow_run(id: &str, template: &str, version: i64, state: &RunState) -> WorkflowRun {
    let finished = state.status.is_final();
    let outputs: Map<String, Value> = if finished {
        state
            .steps
            .iter()
            .filter(|step| step.status == StepStatus::Succeeded)
            .filter_map(|step| Some((step.key.clone(), step.output.clone()?)))
            .collect()
    } else {
        Map::new()
    };
    WorkflowRun {
        id: id.to_owned(),
        template: template.to_owned(),
        version,
        status: state.status,
        finished,
        outputs,
        reason: matches!(state.status, RunStatus::Failed | RunStatus::Cancelled)
            .then(|| state.reason.clone())
            .flatten(),
    }
}
