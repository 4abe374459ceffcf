//! `subrun`: a step that starts a child run from a plan in its input and waits for it.
//!
//! The child is created with the idempotency key `subrun:{run}:{step}`, so a retried or
//! replayed attempt (after a crash, say) re-attaches to the child it started instead of
//! starting a second one. The step succeeds with the child's outputs when the child succeeds,
//! and fails for good when the child fails or is cancelled (retries belong inside the child's
//! plan, on its own steps). Cancelling the parent, or the step timing out, cancels the child.
//! Nesting is bounded by the plan itself: a child plan is literal JSON in the parent's input.

use std::collections::BTreeMap;
use std::time::Duration;

use serde_json::{Value, json};
use tokio::sync::broadcast::error::RecvError;

use super::{Tool, ToolContext, ToolError, ToolFuture};
use crate::catalog::ToolSpec;
use crate::engine::{EngineError, RunCommand, SubmitOptions};
use crate::plan::Plan;
use crate::status::RunStatus;

/// How often the child's state is read even without events (a safety net for missed ones).
const POLL: Duration = Duration::from_secs(2);

/// The `subrun` tool. It starts the child on the engine that runs the step, which the engine
/// hands every attempt in [`ToolContext::engine`].
#[derive(Debug, Clone, Copy, Default)]
pub struct Subrun;

impl Tool for Subrun {
    fn spec(&self) -> ToolSpec {
        ToolSpec {
            name: "subrun".into(),
            description: "Starts a child run from `plan` and waits for it; outputs the child's \
                          step outputs."
                .into(),
            input_schema: json!({
                "type": "object",
                "required": ["plan"],
                "properties": {
                    "plan": {"type": "object", "required": ["steps"], "x-verbatim": true},
                    "priority": {"type": "integer"}
                },
                "additionalProperties": false
            }),
            default_risk: 0.0,
        }
    }

    fn run<'a>(&'a self, ctx: &'a ToolContext, input: Value) -> ToolFuture<'a> {
        Box::pin(async move {
            let engine = ctx
                .engine
                .as_ref()
                .ok_or_else(|| ToolError::permanent("subrun runs only inside an engine"))?;
            let plan: Plan = serde_json::from_value(input["plan"].clone())
                .map_err(|e| ToolError::permanent(format!("input.plan: {e}")))?;
            // The child belongs to the parent's project.
            let project = engine
                .state(&ctx.run_id)
                .await
                .map_err(|e| ToolError::retryable(format!("parent run {}: {e}", ctx.run_id)))?
                .project;
            let options = SubmitOptions {
                priority: input["priority"].as_i64().unwrap_or(0) as i32,
                idempotency_key: Some(format!("subrun:{}:{}", ctx.run_id, ctx.step)),
                project,
                // Started by its parent run, not by a person: the parent's end is what they hear of.
                started_by: None,
                goal: None,
            };
            // Subscribe before looking, so the child's end cannot slip between the two.
            let mut events = engine.subscribe();
            let child = match engine.submit_with(plan, options).await {
                Ok(submitted) => submitted.run_id,
                Err(EngineError::InvalidPlan(problems)) => {
                    return Err(ToolError::permanent(format!("input.plan: {problems}")));
                }
                Err(e) => {
                    return Err(ToolError::retryable(format!(
                        "cannot start the child run: {e}"
                    )));
                }
            };
            loop {
                match engine.state(&child).await {
                    Ok(state) if state.status.is_final() => return outcome(&child, &state),
                    Ok(_) => {}
                    Err(e) => return Err(ToolError::retryable(format!("child run {child}: {e}"))),
                }
                let wait = async {
                    loop {
                        match events.recv().await {
                            Ok((run_id, event)) if run_id == child && event.kind.ends_run() => {
                                return;
                            }
                            Ok(_) => {}
                            Err(RecvError::Lagged(_)) => return,
                            Err(RecvError::Closed) => std::future::pending::<()>().await,
                        }
                    }
                };
                tokio::select! {
                    () = wait => {}
                    () = tokio::time::sleep(POLL) => {}
                    () = ctx.cancel.cancelled() => {
                        let cancel = RunCommand::Cancel {
                            by: format!("run {}", ctx.run_id),
                            reason: format!("parent step '{}' stopped", ctx.step),
                        };
                        let _ = engine.command(&child, cancel).await;
                        return Err(ToolError::Cancelled);
                    }
                }
            }
        })
    }
}

fn outcome(child: &str, state: &crate::state::RunState) -> Result<Value, ToolError> {
    if state.status == RunStatus::Succeeded {
        let outputs: BTreeMap<&str, &Value> = state
            .steps
            .iter()
            .filter_map(|s| Some((s.key.as_str(), s.output.as_ref()?)))
            .collect();
        Ok(json!({"run_id": child, "status": state.status, "outputs": outputs}))
    } else {
        Err(ToolError::permanent(format!(
            "child run {child} ended {}: {}",
            state.status,
            state.reason.as_deref().unwrap_or("no reason recorded")
        )))
    }
}
