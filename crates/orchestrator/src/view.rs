//! A run's state as the API shows it (`GET /api/v1/runs/{id}`): the wire types of
//! [`switchyard_protocol::api::runs`], built from [`RunState`] without exposing the engine's
//! own types to clients.

use switchyard_protocol::api::runs::{ApprovalView, LeaseView, RunView, StepView};

use crate::state::{RunState, StepState};

impl RunState {
    /// The state as the API shows it (`GET /api/v1/runs/{id}`).
    pub fn view(&self) -> RunView {
        RunView {
            status: self.status,
            plan: (*self.plan).clone(),
            steps: self.steps.iter().map(StepState::view).collect(),
            priority: self.priority,
            project: self.project.clone(),
            started_by: self.started_by.clone(),
            goal: self.goal.clone(),
            approval_threshold: self.approval_threshold,
            last_seq: self.last_seq,
            next_fencing_token: self.next_fencing_token,
            compensation_queue: self.compensation_queue.clone(),
            compensated: self.compensated.clone(),
            reason: self.reason.clone(),
            updated_at: self.updated_at,
        }
    }
}

impl StepState {
    /// The step as the API shows it.
    pub fn view(&self) -> StepView {
        StepView {
            key: self.key.clone(),
            status: self.status,
            attempt: self.attempt,
            max_attempts: self.max_attempts,
            risk: self.risk,
            deps: self.deps.clone(),
            not_before: self.not_before,
            lease: self.lease.as_ref().map(|l| LeaseView {
                worker: l.worker.clone(),
                fencing_token: l.fencing_token,
                expires_at: l.expires_at,
            }),
            output: self.output.clone(),
            error: self.error.clone(),
            approval: self.approval.as_ref().map(|a| ApprovalView {
                approved: a.approved,
                by: a.by.clone(),
                rationale: a.rationale.clone(),
            }),
            completed_seq: self.completed_seq,
            compensation_error: self.compensation_error.clone(),
        }
    }
}
