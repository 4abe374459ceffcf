//! One commit per batch, then its actions; a conflict reloads the runs involved, and actions
//! of an uncommitted batch are undone.

use super::*;

impl Coordinator {
    /// Commits the batch, then acts on it. A run another writer changed first is taken out
    /// of the batch and reloaded, and the rest committed; on any other failure nothing is
    /// acted on and the touched runs are reloaded, so memory never runs ahead of the database.
    pub(super) async fn flush(&mut self) {
        self.evict_finished();
        if self.dirty.is_empty() && self.actions.is_empty() {
            return;
        }
        let me = self.config.worker_id.clone();
        let dirty = std::mem::take(&mut self.dirty);
        let mut fresh_rows: HashMap<String, Vec<StepRow>> = HashMap::new();
        let mut changes: Vec<RunChange> = dirty
            .iter()
            .filter_map(|id| {
                let run = self.runs.get_mut(id)?;
                if run.unsaved.is_empty() {
                    return None;
                }
                let rows = step_rows(&run.state);
                let changed: Vec<StepRow> = if rows.len() == run.stored_rows.len() {
                    rows.iter()
                        .zip(&run.stored_rows)
                        .filter(|(new, old)| new != old)
                        .map(|(new, _)| new.clone())
                        .collect()
                } else {
                    rows.clone()
                };
                fresh_rows.insert(id.clone(), rows);
                Some(RunChange {
                    run_id: id.clone(),
                    expected_seq: run.stored_seq,
                    events: std::mem::take(&mut run.unsaved),
                    state: Arc::clone(&run.state),
                    step_rows: Some(changed),
                    snapshot: run.stored_seq == 0
                        || RunChange::snapshot_due(&run.state, run.snapshot_seq),
                    owner: run.owned.then(|| me.clone()),
                    idempotency_key: if run.stored_seq == 0 {
                        run.idempotency_key.clone()
                    } else {
                        None
                    },
                })
            })
            .collect();
        let mut actions = std::mem::take(&mut self.actions);
        self.pending_keys.clear();
        loop {
            if changes.is_empty() {
                break;
            }
            match self.store.commit_by(&me, &changes).await {
                Ok(()) => break,
                Err(RunLogError::Conflict { run_id, .. }) => {
                    tracing::debug!(%run_id, "run changed elsewhere; reloading it");
                    changes.retain(|c| c.run_id != run_id);
                    let (theirs, ours): (Vec<_>, Vec<_>) =
                        actions.into_iter().partition(|a| a.run_id() == run_id);
                    actions = ours;
                    self.drop_actions(theirs, "the run changed elsewhere; try again")
                        .await;
                    self.refresh(&run_id).await;
                }
                Err(e) => {
                    tracing::error!(error = %e, runs = changes.len(), "could not record a batch; reloading");
                    self.drop_actions(actions, &format!("not recorded: {e}"))
                        .await;
                    for change in changes {
                        if change.expected_seq == 0 {
                            if let Some(run) = self.runs.remove(&change.run_id) {
                                run.cancel.cancel();
                            }
                        } else {
                            self.refresh(&change.run_id).await;
                        }
                    }
                    return;
                }
            }
        }
        for change in changes {
            if let Some(run) = self.runs.get_mut(&change.run_id) {
                run.stored_seq = change.state.last_seq;
                if change.snapshot {
                    run.snapshot_seq = change.state.last_seq;
                }
                if let Some(rows) = fresh_rows.remove(&change.run_id) {
                    run.stored_rows = rows;
                }
            }
            for event in change.events {
                self.events.publish(&change.run_id, event);
            }
        }
        for action in actions {
            self.act(action);
        }
        self.evict_finished();
    }

    /// Undoes what uncommitted actions promised: slots of attempts never started, replies
    /// to callers whose request was not recorded.
    pub(super) async fn drop_actions(&mut self, actions: Vec<Action>, why: &str) {
        for action in actions {
            match action {
                // Leased in this batch but never started: give back its slot. Attempts started
                // by earlier batches give theirs back when they finish.
                Action::Attempt { run_id, step, .. } => {
                    let run = self.runs.get_mut(&run_id);
                    let agent = run.and_then(|run| {
                        run.in_flight.remove(&step);
                        run.state
                            .plan
                            .steps
                            .iter()
                            .find(|s| s.key == step)
                            .map(|s| s.agent.clone())
                    });
                    self.running_total -= 1;
                    if let Some(n) = agent.and_then(|a| self.running_by_agent.get_mut(&a)) {
                        *n -= 1;
                    }
                }
                Action::Submitted {
                    reply,
                    run_id,
                    idempotency_key,
                } => {
                    if let Some(run) = self.runs.remove(&run_id) {
                        run.cancel.cancel();
                    }
                    // Lost a race for the key: answer with the run that won it.
                    let winner = match &idempotency_key {
                        Some(key) => self.store.find_by_idempotency_key(key).await.ok().flatten(),
                        None => None,
                    };
                    let _ = reply.send(match winner {
                        Some(run_id) => Ok(Submitted {
                            run_id,
                            created: false,
                        }),
                        None => Err(EngineError::RunLog(RunLogError::Invalid {
                            run_id,
                            reason: why.to_owned(),
                        })),
                    });
                }
                Action::Done { reply, .. } => {
                    let _ = reply.send(Err(decide::CommandError::Conflict(why.to_owned()).into()));
                }
                Action::Compensate { run_id, .. } => {
                    if let Some(run) = self.runs.get_mut(&run_id) {
                        run.compensating = false;
                    }
                }
            }
        }
    }
}
