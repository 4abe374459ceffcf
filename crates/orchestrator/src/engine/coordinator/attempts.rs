//! Acting on a committed batch: attempts and compensations started as tasks, with their
//! input rendered from earlier outputs, a timeout, and a report back when they end.

use super::*;

impl Coordinator {
    pub(super) fn act(&mut self, action: Action) {
        match action {
            Action::Submitted { reply, run_id, .. } => {
                let _ = reply.send(Ok(Submitted {
                    run_id,
                    created: true,
                }));
            }
            Action::Done { reply, .. } => {
                let _ = reply.send(Ok(()));
            }
            Action::Attempt {
                run_id,
                step,
                attempt,
                fencing_token,
            } => self.start_attempt(run_id, step, attempt, fencing_token),
            Action::Compensate { run_id, step } => self.start_compensation(run_id, step),
        }
    }

    pub(super) fn start_attempt(
        &mut self,
        run_id: String,
        step: String,
        attempt: u32,
        fencing_token: u64,
    ) {
        let Some(run) = self.runs.get(&run_id) else {
            return;
        };
        let Some(spec) = run.state.plan.steps.iter().find(|s| s.key == step) else {
            return;
        };
        let agent = spec.agent.clone();
        let timeout = Duration::from_secs(spec.timeout_s);
        let prepared = self.prepare_input(&run.state, &spec.tool, &spec.input);
        let ctx = ToolContext::new(&run_id, &step, attempt, run.cancel.child_token())
            .with_engine(self.engine.clone());
        self.spawn_tool(&spec.tool, prepared, ctx, timeout, move |result| Finished {
            run_id,
            step,
            outcome: Outcome::Attempt {
                fencing_token,
                agent,
                result,
            },
        });
    }

    /// Compensations run once each, on their own token: cancelling the run does not stop the
    /// unwinding it started.
    pub(super) fn start_compensation(&mut self, run_id: String, step: String) {
        let Some(run) = self.runs.get(&run_id) else {
            return;
        };
        let Some(spec) = run.state.plan.steps.iter().find(|s| s.key == step) else {
            return;
        };
        let Some(comp) = &spec.compensation else {
            return;
        };
        let timeout = Duration::from_secs(spec.timeout_s);
        let prepared = self.prepare_input(&run.state, &comp.tool, &comp.input);
        let attempt = run.state.step(&step).map_or(1, |s| s.attempt);
        let name = format!("{step}.compensation");
        let ctx = ToolContext::new(&run_id, &name, attempt, CancellationToken::new())
            .with_engine(self.engine.clone());
        self.spawn_tool(&comp.tool, prepared, ctx, timeout, move |result| Finished {
            run_id,
            step,
            outcome: Outcome::Compensation {
                error: result.err().map(|e| e.to_string()),
            },
        });
    }

    /// Runs `tool` on its own task under `timeout` and reports back through `finish`.
    pub(super) fn spawn_tool(
        &self,
        tool: &str,
        prepared: Result<Value, ToolError>,
        ctx: ToolContext,
        timeout: Duration,
        finish: impl FnOnce(Result<Value, ToolError>) -> Finished + Send + 'static,
    ) {
        let tool = self.tools.get(tool).cloned();
        let tx = self.tx.clone();
        tokio::spawn(async move {
            let result = match (tool, prepared) {
                (_, Err(e)) => Err(e),
                (None, _) => Err(ToolError::permanent(
                    "no implementation is installed for this tool",
                )),
                (Some(tool), Ok(input)) => {
                    run_with_timeout(tool.as_ref(), &ctx, input, timeout).await
                }
            };
            let _ = tx.send(Msg::Finished(finish(result)));
        });
    }

    /// Fills in templates from finished steps' outputs and checks the result against the
    /// tool's schema (templated values could only be checked now).
    pub(super) fn prepare_input(
        &self,
        state: &RunState,
        tool: &str,
        input: &Value,
    ) -> Result<Value, ToolError> {
        let outputs: HashMap<String, Value> = state
            .steps
            .iter()
            .filter_map(|s| s.output.clone().map(|o| (s.key.clone(), o)))
            .collect();
        let compiled = self.catalog.tools.get(tool);
        let verbatim = compiled
            .map(|c| template::verbatim_fields(&c.spec.input_schema))
            .unwrap_or_default();
        let (templated, kept) = template::split_verbatim(input, &verbatim);
        let mut rendered = template::render(&templated, &outputs)
            .map_err(|e| ToolError::permanent(format!("input: {e}")))?;
        if let Some(object) = rendered.as_object_mut() {
            object.extend(kept);
        }
        if let Some(compiled) = compiled
            && let Some(error) = compiled.validator.iter_errors(&rendered).next()
        {
            return Err(ToolError::permanent(format!(
                "input{}: {}",
                error.instance_path().as_str(),
                error.masked()
            )));
        }
        Ok(rendered)
    }
}

async fn run_with_timeout(
    tool: &dyn Tool,
    ctx: &ToolContext,
    input: Value,
    timeout: Duration,
) -> Result<Value, ToolError> {
    match tokio::time::timeout(timeout, tool.run(ctx, input)).await {
        Ok(result) => result,
        Err(_) => {
            ctx.cancel.cancel();
            Err(ToolError::retryable(format!(
                "timed out after {} s",
                timeout.as_secs()
            )))
        }
    }
}
