//! The notifications bell: what reaches each person, kept on the server (it survives a reload
//! and shows on every device).
//!
//! - a step waiting for approval: to everyone who may approve in its project (admins, the
//!   project's operators), marked read for all of them once someone decides it or the run ends;
//! - a run that failed: to everyone who may start runs in its project, and to whoever started it;
//! - a run that succeeded or was cancelled: to whoever started it.
//!
//! With sign-in off the one recipient is the local operator. [`feed`] turns the engine's events
//! into notifications (the table's unique key makes an event seen twice, by two servers or
//! after a restart, notify once) and tells the live sockets whose bell changed
//! ([`Service::bell_changes`]). [`store`] is the table.

pub mod store;

use std::collections::HashMap;

use switchyard_auth::{Permission, Role, users};
use switchyard_orchestrator::{EventKind, RunEvent, StepStatus};
use switchyard_protocol::Notifications;
use switchyard_protocol::api::live::touches_approvals;
use tokio_util::sync::CancellationToken;

use crate::Service;
use crate::error::{ErrorKind, ServiceError};
use crate::principal::{LOCAL_OPERATOR, Principal};
use store::NewNotification;

use crate::brief::{clipped, short_run_id};

/// The most notifications the bell lists.
pub const LISTED: i64 = 50;
/// Runs whose riskiness the feed remembers; past this it forgets and reads their state again.
const REMEMBERED_RUNS: usize = 10_000;
/// The longest reason a title quotes, in characters.
const REASON_CHARS: usize = 160;

fn db_error(e: sqlx::Error) -> ServiceError {
    ServiceError::internal(&e)
}

impl Service {
    /// The caller's bell: the newest [`LISTED`] notifications and the unread count. Needs
    /// `ReadRuns`; API keys have no bell (400).
    pub async fn notifications(&self, who: &Principal) -> Result<Notifications, ServiceError> {
        who.require(Permission::ReadRuns).await?;
        let recipient = bell_of(who)?;
        let (items, unread) = store::newest(self.db(), &recipient, LISTED)
            .await
            .map_err(db_error)?;
        Ok(Notifications { items, unread })
    }

    /// Marks the caller's notifications `ids` read (every one when `ids` is empty), then
    /// answers the bell as it is now.
    pub async fn mark_notifications_read(
        &self,
        who: &Principal,
        ids: &[String],
    ) -> Result<Notifications, ServiceError> {
        who.require(Permission::ReadRuns).await?;
        let recipient = bell_of(who)?;
        let changed = store::mark_read(self.db(), &recipient, ids)
            .await
            .map_err(db_error)?;
        if changed > 0 {
            let _ = self.bell().send(recipient);
        }
        self.notifications(who).await
    }

    /// Whose bell changed (a recipient per message), for the live sockets.
    pub fn bell_changes(&self) -> tokio::sync::broadcast::Receiver<String> {
        self.bell().subscribe()
    }

    /// The notifications one event of run `run_id` makes.
    /// `risky` remembers, per run, whether any step of it can wait for approval: the state
    /// is read only for a run's end and for the events of runs that can make someone wait,
    /// not for every step of the runs that cannot.
    async fn notify_about(
        &self,
        run_id: &str,
        event: &RunEvent,
        risky: &mut HashMap<String, bool>,
    ) -> Result<(), ServiceError> {
        let name = event.kind.name();
        let ends = matches!(name, "run_succeeded" | "run_failed" | "run_cancelled");
        if ends {
            risky.remove(run_id);
        } else if !touches_approvals(name) {
            return Ok(());
        } else {
            if risky.len() >= REMEMBERED_RUNS {
                risky.clear();
            }
            if let EventKind::RunCreated {
                risks,
                approval_threshold,
                ..
            } = &event.kind
            {
                let can_wait = risks.iter().any(|r| r >= approval_threshold);
                risky.insert(run_id.to_owned(), can_wait);
            }
            if risky.get(run_id) == Some(&false) {
                return Ok(());
            }
        }
        let state = self.engine().state(run_id).await?;
        if !ends {
            let can_wait = state
                .steps
                .iter()
                .any(|s| s.risk >= state.approval_threshold);
            risky.insert(run_id.to_owned(), can_wait);
            if !can_wait {
                return Ok(());
            }
        }
        let project = state.project.as_str();
        let run = short_run_id(run_id);
        let mut made: Vec<(String, &str, String, String)> = Vec::new();
        let starter = state.started_by.clone();
        match &event.kind {
            EventKind::RunFailed { reason, .. } => {
                let mut to = self.may_hear(project, Permission::WriteRuns).await?;
                to.extend(starter);
                let title = format!("Run {run} failed: {}", clipped(reason, REASON_CHARS));
                made.extend(
                    to.into_iter()
                        .map(|r| (r, "run_failed", String::new(), title.clone())),
                );
            }
            EventKind::RunSucceeded => made.extend(starter.map(|r| {
                (
                    r,
                    "run_finished",
                    String::new(),
                    format!("Run {run} succeeded"),
                )
            })),
            EventKind::RunCancelled { reason, .. } => made.extend(starter.map(|r| {
                let title = format!("Run {run} was cancelled: {}", clipped(reason, REASON_CHARS));
                (r, "run_finished", String::new(), title)
            })),
            _ => {}
        }
        let waiting: Vec<&str> = state
            .steps
            .iter()
            .filter(|s| s.status == StepStatus::AwaitingApproval)
            .map(|s| s.key.as_str())
            .collect();
        if !waiting.is_empty() {
            let approvers = self.may_hear(project, Permission::Approve).await?;
            for step in waiting {
                let tool = state
                    .plan
                    .steps
                    .iter()
                    .find(|s| s.key == step)
                    .map_or("", |s| s.tool.as_str());
                let title = format!("Step {step} ({tool}) of run {run} waits for approval");
                made.extend(approvers.iter().map(|r| {
                    (
                        r.clone(),
                        "approval_waiting",
                        step.to_owned(),
                        title.clone(),
                    )
                }));
            }
        }
        let mut changed: Vec<String> = Vec::new();
        for (recipient, kind, step, title) in &made {
            let new = NewNotification {
                recipient,
                kind,
                run_id,
                step,
                project,
                title,
            };
            if store::insert(self.db(), &new).await.map_err(db_error)? {
                changed.push(recipient.clone());
            }
        }
        // A decided step, or an ended run, no longer waits for anyone.
        let decided = match &event.kind {
            EventKind::StepApproved { step, .. } | EventKind::StepRejected { step, .. } => {
                Some(Some(step.as_str()))
            }
            _ if ends => Some(None),
            _ => None,
        };
        if let Some(step) = decided {
            changed.extend(
                store::settle_approvals(self.db(), run_id, step)
                    .await
                    .map_err(db_error)?,
            );
        }
        changed.sort();
        changed.dedup();
        for recipient in changed {
            let _ = self.bell().send(recipient);
        }
        Ok(())
    }

    /// Who hears of `project`'s runs for what needs `permission`: with sign-in off, the local
    /// operator; else every enabled user whose role allows it and who sees the project.
    async fn may_hear(
        &self,
        project: &str,
        permission: Permission,
    ) -> Result<Vec<String>, ServiceError> {
        if !self.access().required {
            return Ok(vec![LOCAL_OPERATOR.to_owned()]);
        }
        let members = store::members(self.db(), project).await.map_err(db_error)?;
        let users = users::list(self.db())
            .await
            .map_err(|e| ServiceError::internal(&e))?;
        Ok(users
            .into_iter()
            .filter(|u| !u.disabled && u.role.allows(permission))
            .filter(|u| u.role == Role::Admin || members.contains(&u.id))
            .map(|u| u.id)
            .collect())
    }
}

/// The caller's recipient name; API keys have no bell.
fn bell_of(who: &Principal) -> Result<String, ServiceError> {
    who.recipient().ok_or_else(|| {
        ServiceError::new(
            ErrorKind::Invalid,
            "no_bell",
            "API keys have no notifications: they belong to people",
        )
    })
}

/// Turns the engine's events into notifications until `stop`. Events this process never
/// receives (its bus lagged behind) notify nobody; the log says how many.
pub async fn feed(service: Service, stop: CancellationToken) {
    let mut bus = service.engine().subscribe();
    let mut risky = HashMap::new();
    while let Some((run_id, event)) =
        crate::followers::next_event(&mut bus, &stop, "the notifications feed").await
    {
        if let Err(e) = service.notify_about(&run_id, &event, &mut risky).await {
            tracing::warn!(run = %run_id, error = %e.message, "could not record notifications");
        }
    }
}
