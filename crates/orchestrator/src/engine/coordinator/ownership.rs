//! Which runs this engine owns: claiming them (up to one batch at a time), taking them on,
//! reloading them when another writer changed them, keeping the claim alive, and letting
//! finished ones go.

use super::*;

impl Coordinator {
    /// SQLite: this engine is the only one on the database.
    pub(super) fn exclusive(&self) -> bool {
        matches!(self.store.database(), switchyard_db::Database::Sqlite(_))
    }

    /// How many more runs this engine may own.
    pub(super) fn room(&self) -> usize {
        let owned = self.runs.values().filter(|r| r.owned).count();
        self.config.max_runs.saturating_sub(owned)
    }

    pub(super) fn track(
        &mut self,
        run_id: String,
        stored_seq: u64,
        state: RunState,
        unsaved: Vec<RunEvent>,
    ) {
        self.arrivals += 1;
        if !unsaved.is_empty() {
            self.dirty.push(run_id.clone());
        }
        let stored_rows = if stored_seq == 0 {
            Vec::new()
        } else {
            step_rows(&state)
        };
        self.runs.insert(
            run_id,
            Tracked {
                state: Arc::new(state),
                stored_rows,
                snapshot_seq: stored_seq,
                stored_seq,
                unsaved,
                cancel: CancellationToken::new(),
                in_flight: HashSet::new(),
                compensating: false,
                arrival: self.arrivals,
                owned: true,
                idempotency_key: None,
            },
        );
    }

    /// Claims what runs it can (up to one batch) and takes them on.
    pub(super) async fn claim_round(&mut self, now: DateTime<Utc>) -> Result<(), RunLogError> {
        let limit = self.room().min(self.config.claim_batch.max(1));
        self.claim_wanted = false;
        if limit == 0 {
            // Full: look again once something finishes.
            self.claim_wanted = true;
            return Ok(());
        }
        let claimed = self.store.claim(&self.config.worker_id, now, limit).await?;
        if claimed.len() == limit {
            self.claim_wanted = true;
        }
        for run_id in claimed {
            self.adopt(run_id, now).await;
        }
        Ok(())
    }

    /// Takes on a run this engine just claimed. Whoever held it before is gone (or fenced
    /// out: its writes now fail on `owner`), so the leases it held end now.
    pub(super) async fn adopt(&mut self, run_id: String, now: DateTime<Utc>) {
        if self.runs.contains_key(&run_id) {
            return;
        }
        let state = match self.store.load(&run_id).await {
            Ok((state, _)) if !state.status.is_final() => state,
            Ok(_) | Err(RunLogError::NotFound(_)) => return,
            Err(e) => {
                tracing::warn!(%run_id, error = %e, "could not load a claimed run; will retry");
                self.orphans.push(run_id);
                return;
            }
        };
        let held: Vec<String> = state
            .steps
            .iter()
            .filter(|s| s.status == StepStatus::Leased)
            .map(|s| s.key.clone())
            .collect();
        self.track(run_id.clone(), state.last_seq, state, Vec::new());
        for step in held {
            let Some(run) = self.runs.get(&run_id) else {
                return;
            };
            if let Ok(kinds) = decide::reclaim_lease(&run.state, &step, now, fastrand::f64()) {
                self.record(&run_id, kinds, now);
            }
        }
    }

    /// Reloads a run another writer changed. Attempts whose lease the stored state still
    /// shows keep running; if the run is no longer this engine's, it is dropped.
    pub(super) async fn refresh(&mut self, run_id: &str) {
        let loaded = self.store.load(run_id).await;
        let me = self.config.worker_id.as_str();
        let Some(run) = self.runs.get_mut(run_id) else {
            return;
        };
        match loaded {
            Ok((state, Some(owner))) if owner == me => {
                run.in_flight.retain(|key| {
                    state.step(key).is_some_and(|s| {
                        s.status == StepStatus::Leased
                            && s.lease.as_ref().is_some_and(|l| l.worker == me)
                    })
                });
                run.stored_seq = state.last_seq;
                run.snapshot_seq = state.last_seq;
                run.unsaved.clear();
                run.stored_rows = step_rows(&state);
                run.state = Arc::new(state);
                if !matches!(
                    run.state.status,
                    RunStatus::Running | RunStatus::AwaitingApproval | RunStatus::Paused
                ) {
                    run.cancel.cancel();
                }
            }
            Ok(_) | Err(RunLogError::NotFound(_)) => {
                tracing::info!(%run_id, "run is no longer this engine's; dropping it");
                run.cancel.cancel();
                self.runs.remove(run_id);
            }
            Err(e) => {
                tracing::warn!(%run_id, error = %e, "could not reload a run; will retry");
                run.cancel.cancel();
                self.runs.remove(run_id);
                self.orphans.push(run_id.to_owned());
            }
        }
    }

    /// Renews this engine's worker row and the leases of its running attempts, retries
    /// orphans, and asks for a claim round (runs of engines that died become claimable).
    pub(super) async fn heartbeat(&mut self, now: DateTime<Utc>) {
        let ttl = self.config.lease_ttl;
        if let Err(e) = self
            .store
            .heartbeat(&self.config.worker_id, now, now + ttl)
            .await
        {
            tracing::warn!(error = %e, "heartbeat not recorded");
        }
        let renew_before = now + ttl * 2 / 3;
        let mut renew = Vec::new();
        for (run_id, run) in &self.runs {
            for key in &run.in_flight {
                if let Some(lease) = run.state.step(key).and_then(|s| s.lease.as_ref())
                    && lease.worker == self.config.worker_id
                    && lease.expires_at < renew_before
                {
                    renew.push((run_id.clone(), key.clone(), lease.fencing_token));
                }
            }
        }
        for (run_id, key, token) in renew {
            if let Some(run) = self.runs.get(&run_id)
                && let Ok(kinds) = decide::heartbeat(&run.state, &key, token, now, ttl)
            {
                self.record(&run_id, kinds, now);
            }
        }
        for run_id in std::mem::take(&mut self.orphans) {
            self.adopt(run_id, now).await;
        }
        self.claim_wanted = true;
        self.heartbeat_due = Instant::now() + ttl / 3;
    }

    /// Ended runs leave memory once nothing of theirs is running and all is committed; so
    /// do runs recorded for other engines to claim.
    pub(super) fn evict_finished(&mut self) {
        self.runs.retain(|_, run| {
            let done = run.in_flight.is_empty() && !run.compensating && run.unsaved.is_empty();
            !(done && (run.state.status.is_final() || (!run.owned && run.stored_seq > 0)))
        });
    }
}
