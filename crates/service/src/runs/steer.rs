//! Steering runs: cancel, pause, resume; approving or rejecting a step that waits for a
//! person; the inbox of such steps; many runs cancelled at once. Every command is audited with its outcome.

use switchyard_auth::Permission;
use switchyard_orchestrator::StepStatus;
use switchyard_orchestrator::engine::RunCommand;
use switchyard_protocol::BulkOutcome;

use crate::Service;
use crate::error::ServiceError;
use crate::principal::Principal;

/// What to do with a run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Steer {
    Cancel,
    Pause,
    Resume,
}

impl Steer {
    /// The audit log's action.
    fn action(self) -> &'static str {
        match self {
            Self::Cancel => "runs.cancel",
            Self::Pause => "runs.pause",
            Self::Resume => "runs.resume",
        }
    }
}

/// A person's decision on a step.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    Approve,
    Reject,
}

pub use switchyard_protocol::api::runs::PendingApproval;

/// Most runs one bulk cancel takes.
pub const MAX_BULK: usize = 100;

impl Service {
    /// Cancels each run of `ids` with `reason`, one by one, each checked and audited as a
    /// single cancel; answers what became of each. Refused as a whole (403) when the caller
    /// may cancel nothing, and (400) for no ids or more than [`MAX_BULK`].
    pub async fn cancel_many(
        &self,
        who: &Principal,
        ids: &[&str],
        reason: Option<String>,
    ) -> Result<Vec<BulkOutcome>, ServiceError> {
        who.require(Permission::WriteRuns).await?;
        if ids.is_empty() || ids.len() > MAX_BULK {
            return Err(ServiceError::invalid(format!(
                "name 1 to {MAX_BULK} runs to cancel (got {})",
                ids.len()
            )));
        }
        let mut outcomes = Vec::with_capacity(ids.len());
        for &id in ids {
            let refused = self
                .steer(who, id, Steer::Cancel, reason.clone())
                .await
                .err()
                .map(|e| e.message);
            outcomes.push(BulkOutcome {
                id: id.to_owned(),
                refused,
            });
        }
        Ok(outcomes)
    }

    /// Cancels (with `reason`), pauses or resumes run `id`; 409 when its state does not
    /// allow it.
    pub async fn steer(
        &self,
        who: &Principal,
        id: &str,
        steer: Steer,
        reason: Option<String>,
    ) -> Result<(), ServiceError> {
        who.require(Permission::WriteRuns).await?;
        self.visible_run(who, id).await?;
        let by = who.name.clone();
        let command = match steer {
            Steer::Cancel => RunCommand::Cancel {
                by,
                reason: reason.unwrap_or_else(|| "cancelled through the API".into()),
            },
            Steer::Pause => RunCommand::Pause { by },
            Steer::Resume => RunCommand::Resume { by },
        };
        let done = self.engine().command(id, command).await;
        who.audited((steer.action(), id), "ok", done).await?;
        Ok(())
    }

    /// Approves (the step runs) or rejects (the run fails and compensates) step `step` of run
    /// `id`, with the person's `rationale`; 409 unless the step awaits approval.
    pub async fn decide(
        &self,
        who: &Principal,
        id: &str,
        step: &str,
        verdict: Verdict,
        rationale: String,
    ) -> Result<(), ServiceError> {
        who.require(Permission::Approve).await?;
        self.visible_run(who, id).await?;
        if rationale.trim().is_empty() {
            return Err(ServiceError::invalid("rationale must not be empty"));
        }
        let (step, by) = (step.to_owned(), who.name.clone());
        let (action, command) = match verdict {
            Verdict::Approve => (
                "runs.approve",
                RunCommand::Approve {
                    step: step.clone(),
                    by,
                    rationale,
                },
            ),
            Verdict::Reject => (
                "runs.reject",
                RunCommand::Reject {
                    step: step.clone(),
                    by,
                    rationale,
                },
            ),
        };
        let done = self.engine().command(id, command).await;
        who.audited((action, &format!("{id}/{step}")), "ok", done)
            .await?;
        Ok(())
    }

    /// When step `index` of run `run_id` began to wait, written as the API writes times: the
    /// time of the event that completed its last dependency, or of the run's start when it
    /// has none.
    async fn waiting_since(
        &self,
        run_id: &str,
        state: &switchyard_orchestrator::RunState,
        index: usize,
    ) -> Option<String> {
        let ready_at_seq = state.steps[index]
            .deps
            .iter()
            .filter_map(|&dep| state.steps[dep].completed_seq)
            .max();
        // Only the log from that event on: a long run's history is not read for one time.
        let after = ready_at_seq.map_or(0, |seq| seq - 1);
        let events = self.runs().events(run_id, after).await.ok()?;
        events
            .iter()
            .find(|event| match ready_at_seq {
                Some(seq) => event.seq == seq,
                None => matches!(event.kind, switchyard_orchestrator::EventKind::RunStarted),
            })
            .map(|event| {
                event
                    .at
                    .to_rfc3339_opts(chrono::SecondsFormat::AutoSi, true)
            })
    }

    /// Steps waiting for a person, in runs `who` sees.
    pub async fn approvals(&self, who: &Principal) -> Result<Vec<PendingApproval>, ServiceError> {
        let mut pending = Vec::new();
        for (run_id, state, index) in self.waiting_steps(who).await? {
            let waiting_since = self.waiting_since(&run_id, &state, index).await;
            let spec = &state.plan.steps[index];
            pending.push(PendingApproval {
                run_id,
                step: spec.key.clone(),
                agent: spec.agent.clone(),
                tool: spec.tool.clone(),
                risk: state.steps[index].risk,
                input: spec.input.clone(),
                waiting_since,
            });
        }
        Ok(pending)
    }

    /// How many steps wait for a person in runs `who` sees (the sidebar's count): the same
    /// steps as [`Self::approvals`], without reading when each began to wait.
    pub async fn approvals_waiting(&self, who: &Principal) -> Result<usize, ServiceError> {
        Ok(self.waiting_steps(who).await?.len())
    }

    /// Each step waiting for a person in a run `who` sees: its run's id and state, and its
    /// position in the plan.
    async fn waiting_steps(
        &self,
        who: &Principal,
    ) -> Result<Vec<(String, switchyard_orchestrator::RunState, usize)>, ServiceError> {
        who.require(Permission::ReadRuns).await?;
        let waiting = self
            .runs()
            .awaiting_approval()
            .await
            .map_err(|e| ServiceError::internal(&e))?;
        let mut steps = Vec::with_capacity(waiting.len());
        for (run_id, key) in waiting {
            let Ok(state) = self.engine().state(&run_id).await else {
                continue;
            };
            if !who.visibility.sees(&state.project) {
                continue;
            }
            let Some(index) = state.steps.iter().position(|s| s.key == key) else {
                continue;
            };
            if state.steps[index].status == StepStatus::AwaitingApproval {
                steps.push((run_id, state, index));
            }
        }
        Ok(steps)
    }
}
