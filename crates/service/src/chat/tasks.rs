//! Task mode: a person's message in a conversation is a goal; the server plans it (or the
//! plan cache answers), starts a durable run, and the answer is that run
//! ([`ConversationMessage::run_id`](switchyard_protocol::conversation::ConversationMessage)).
//!
//! Like a chat answer, the work belongs to the server: the request returns at once with the
//! answer's number, a task plans and submits, and a reload finds the answer still being
//! planned (its planning followed as `{"planning": task_planning_id(conversation, seq)}`) or
//! the run it became. Stop cannot interrupt the model mid-plan (the engine expects every
//! request it started to be read to its end); a task stopped while planning has its run
//! cancelled the moment the run exists (a step the engine leased in between may still run;
//! a run already ended is left as it is, and the answer says it could not be cancelled).

use switchyard_auth::Permission;
use switchyard_auth::kill::Capability;
use switchyard_protocol::ChatMode;
use switchyard_protocol::conversation::{AnswerStatus, ChatStarted, task_planning_id};

use super::{ChatSend, answers, checked_text, db_error, owner, store};
use crate::Service;
use crate::error::{ServiceError, require_on};
use crate::principal::Principal;
use crate::runs::steer::Steer;
use crate::runs::submit::{Submission, SubmitOutcome, inference_error};

/// Why a run stopped in the panel is cancelled.
const STOPPED_REASON: &str = "stopped in the orchestrator panel while it was being planned";

impl Service {
    /// Sends the caller's goal to a conversation (none: a new one, titled after the goal) and
    /// starts planning it; returns at once with the answer's number. Refused before anything
    /// is recorded when the caller may not start runs or use the model, a switch is off, or
    /// the planner's model is not ready.
    pub async fn send_task(
        &self,
        who: &Principal,
        send: ChatSend,
    ) -> Result<ChatStarted, ServiceError> {
        who.require(Permission::WriteRuns).await?;
        who.require(Permission::Infer).await?;
        require_on(self.switches(), Capability::NewRuns).await?;
        require_on(self.switches(), Capability::Inference).await?;
        let me = owner(who)?;
        let goal = checked_text(&send.text)?;
        let (id, _) = self.open_conversation(&me, &send).await?;
        let model = self
            .inference()
            .model(self.planning().planner.model())
            .map_err(inference_error)?
            .spec
            .id
            .clone();
        let seq = self
            .record_turn(&me, &id, &send, ChatMode::Task, goal, &model)
            .await?;
        let writer = self.answers().start(&me, &id, seq);
        let service = self.clone();
        let who = who.clone();
        let conversation = id.clone();
        let goal = goal.to_owned();
        tokio::spawn(async move {
            service
                .plan_and_start(writer, &who, &conversation, seq, goal)
                .await;
        });
        Ok(ChatStarted {
            conversation: id,
            seq,
        })
    }

    /// Task answer `seq` of conversation `id`: plans `goal` (its progress reported under the
    /// answer's planning id), starts the run, and records the run as the answer: done, failed
    /// with the reason (and the failed run, when planning recorded one), or stopped.
    async fn plan_and_start(
        &self,
        writer: answers::Writer,
        who: &Principal,
        id: &str,
        seq: u32,
        goal: String,
    ) {
        let submission = Submission {
            goal: Some(goal),
            planning_id: Some(task_planning_id(id, seq)),
            ..Submission::default()
        };
        let (content, status, error, run_id) = match self.submit(who, submission).await {
            Ok(outcome) if writer.stop.is_cancelled() => {
                let cancelled = self
                    .steer(
                        who,
                        &outcome.run_id,
                        Steer::Cancel,
                        Some(STOPPED_REASON.to_owned()),
                    )
                    .await;
                let content = match cancelled {
                    Ok(()) => "Stopped: the run was cancelled as it started.".to_owned(),
                    Err(e) => format!("Stopped, but the run could not be cancelled: {e}"),
                };
                (content, AnswerStatus::Stopped, None, Some(outcome.run_id))
            }
            Ok(outcome) => (
                started(&outcome),
                AnswerStatus::Done,
                None,
                Some(outcome.run_id),
            ),
            Err(e) => {
                let run_id = e
                    .details
                    .as_ref()
                    .and_then(|d| d.get("run_id"))
                    .and_then(serde_json::Value::as_str)
                    .map(str::to_owned);
                (String::new(), AnswerStatus::Failed, Some(e.message), run_id)
            }
        };
        let ended = store::Ended {
            content: &content,
            status,
            figures: None,
            error: error.as_deref(),
            run_id: run_id.as_deref(),
        };
        if let Err(e) = store::finish(self.db(), id, seq, &ended).await {
            tracing::warn!(conversation = %id, seq, error = %db_error(e), "could not record a task");
        }
        writer.finish(|p| {
            p.content = content;
            p.status = status;
            p.error = error;
        });
    }
}

/// What a started task's answer says: how it was planned and how many steps it has.
fn started(outcome: &SubmitOutcome) -> String {
    let Some(planned) = &outcome.planned else {
        return "The run started.".to_owned();
    };
    let steps = planned.plan.steps.len();
    let how = if planned.cache_hit {
        "The plan cache answered (no model call)".to_owned()
    } else {
        format!(
            "Planned by {} in {} attempt(s)",
            planned.model, planned.attempts
        )
    };
    format!("{how}: {steps} step(s); the run started.")
}
