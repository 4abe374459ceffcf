//! What comes in: new runs, commands from people (for runs here or owned elsewhere), notices
//! of other engines' commits; decided events recorded for the next commit.

use super::*;

impl Coordinator {
    pub(super) async fn submit(
        &mut self,
        plan: Result<crate::plan::Plan, String>,
        origin: crate::decide::Origin,
        idempotency_key: Option<String>,
        reply: oneshot::Sender<Result<Submitted, EngineError>>,
        now: DateTime<Utc>,
    ) {
        if let Some(key) = &idempotency_key {
            let existing = match self.pending_keys.get(key) {
                Some(run_id) => Ok(Some(run_id.clone())),
                None => self.store.find_by_idempotency_key(key).await,
            };
            match existing {
                Ok(Some(run_id)) => {
                    let _ = reply.send(Ok(Submitted {
                        run_id,
                        created: false,
                    }));
                    return;
                }
                Ok(None) => {}
                Err(e) => {
                    let _ = reply.send(Err(e.into()));
                    return;
                }
            }
        }
        let threshold = self.config.approval_threshold;
        // `unplanned`: why no plan could be made; such a run is created and failed at once.
        let (first, unplanned) = match plan {
            Ok(plan) => match validate(plan, &self.catalog, &self.config.plan_limits) {
                Ok(valid) => (decide::create(valid, threshold, origin), None),
                Err(problems) => {
                    let _ = reply.send(Err(problems.into()));
                    return;
                }
            },
            Err(reason) => (decide::create_unplanned(threshold, origin), Some(reason)),
        };
        let run_id = uuid::Uuid::now_v7().to_string();
        let created = RunEvent {
            seq: 1,
            at: now,
            kind: first,
        };
        let state = RunState::replay([&created]).expect("a fresh run replays");
        let start = match unplanned {
            None => decide::start(&state).expect("a new run can start"),
            Some(reason) => decide::fail_unplanned(&state, &reason).expect("a new run can fail"),
        };
        let owned = self.room() > 0;
        self.track(run_id.clone(), 0, state, vec![created]);
        if let Some(run) = self.runs.get_mut(&run_id) {
            run.owned = owned;
            run.idempotency_key = idempotency_key.clone();
        }
        if let Some(key) = &idempotency_key {
            self.pending_keys.insert(key.clone(), run_id.clone());
        }
        self.record(&run_id, start, now);
        self.actions.push(Action::Submitted {
            reply,
            run_id,
            idempotency_key,
        });
    }

    /// Another engine committed: reload the runs of ours it touched, claim what it offers.
    pub(super) async fn remote(&mut self, notice: Notice) {
        if notice.writer == self.config.worker_id {
            return;
        }
        if notice.released || notice.changes.iter().any(|c| c.unowned) {
            self.claim_wanted = true;
        }
        for change in notice.changes {
            let stale = self.runs.get(&change.run_id).is_some_and(|run| {
                run.owned && run.stored_seq < change.last_seq && run.unsaved.is_empty()
            });
            if stale {
                self.refresh(&change.run_id).await;
            }
        }
    }

    pub(super) async fn stored_state(&self, run_id: &str) -> Result<RunState, EngineError> {
        self.store.state(run_id).await.map_err(|e| match e {
            RunLogError::NotFound(id) => EngineError::UnknownRun(id),
            other => other.into(),
        })
    }

    /// A command for a run this engine owns: decided here, committed with the next batch.
    pub(super) fn command(
        &mut self,
        run_id: &str,
        command: RunCommand,
        now: DateTime<Utc>,
    ) -> Result<(), EngineError> {
        let Some(run) = self.runs.get(run_id) else {
            return Err(EngineError::UnknownRun(run_id.to_owned()));
        };
        let kinds = decide_command(&run.state, &command)?;
        self.record(run_id, kinds, now);
        Ok(())
    }

    /// A command for a run this engine does not hold (finished, or owned by another engine):
    /// decided on the stored state and committed at once, without an ownership fence; the
    /// owner hears of it by notification, or when its own next write is refused.
    pub(super) async fn remote_command(
        &mut self,
        run_id: &str,
        command: &RunCommand,
        now: DateTime<Utc>,
    ) -> Result<(), EngineError> {
        for _ in 0..5 {
            let state = self.stored_state(run_id).await?;
            if state.status.is_final() {
                return Err(decide::CommandError::Conflict(format!(
                    "the run is already {}",
                    state.status
                ))
                .into());
            }
            let kinds = decide_command(&state, command)?;
            let mut next = state.clone();
            let events = next
                .append(kinds, now)
                .expect("decided events apply: decide checked them on a copy");
            let change = RunChange::new(run_id.to_owned(), state.last_seq, events, next);
            match self
                .store
                .commit_by(&self.config.worker_id, std::slice::from_ref(&change))
                .await
            {
                Ok(()) => {
                    for event in change.events {
                        self.events.publish(run_id, event);
                    }
                    return Ok(());
                }
                Err(RunLogError::Conflict { .. }) => continue,
                Err(e) => return Err(e.into()),
            }
        }
        Err(decide::CommandError::Conflict(
            "the run kept changing while the command was being recorded; try again".into(),
        )
        .into())
    }

    /// Applies decided events to the run's state and queues them for the next commit.
    pub(super) fn record(&mut self, run_id: &str, kinds: Vec<EventKind>, now: DateTime<Utc>) {
        let Some(run) = self.runs.get_mut(run_id) else {
            return;
        };
        if run.unsaved.is_empty() {
            self.dirty.push(run_id.to_owned());
        }
        let appended = Arc::make_mut(&mut run.state)
            .append(kinds, now)
            .expect("decided events apply: decide checked them on a copy");
        run.unsaved.extend(appended);
        if !matches!(
            run.state.status,
            RunStatus::Running | RunStatus::AwaitingApproval | RunStatus::Paused
        ) {
            // Unwinding or ended: attempts still running are no longer wanted.
            run.cancel.cancel();
        }
    }
}

fn decide_command(
    state: &RunState,
    command: &RunCommand,
) -> Result<Vec<EventKind>, decide::CommandError> {
    match command {
        RunCommand::Approve {
            step,
            by,
            rationale,
        } => decide::approve(state, step, by, rationale),
        RunCommand::Reject {
            step,
            by,
            rationale,
        } => decide::reject(state, step, by, rationale),
        RunCommand::Pause { by } => decide::pause(state, by),
        RunCommand::Resume { by } => decide::resume(state, by),
        RunCommand::Cancel { by, reason } => decide::cancel(state, by, reason),
    }
}
