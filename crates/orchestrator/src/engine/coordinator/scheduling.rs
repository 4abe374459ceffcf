//! Deciding what runs next: ended attempts folded into their runs, ready steps leased,
//! expired leases recovered, compensations started.

use super::*;

impl Coordinator {
    pub(super) fn finished(&mut self, finished: Finished, now: DateTime<Utc>) {
        let Finished {
            run_id,
            step,
            outcome,
        } = finished;
        let kinds = match outcome {
            Outcome::Attempt {
                fencing_token,
                agent,
                result,
            } => {
                self.running_total -= 1;
                if let Some(n) = self.running_by_agent.get_mut(&agent) {
                    *n -= 1;
                }
                let Some(run) = self.runs.get_mut(&run_id) else {
                    return;
                };
                run.in_flight.remove(&step);
                let state = &run.state;
                match result {
                    Ok(output) => decide::succeed(state, &step, fencing_token, output),
                    Err(ToolError::Cancelled) => return,
                    Err(ToolError::Retryable {
                        message,
                        retry_after,
                    }) => decide::fail_after(
                        state,
                        &step,
                        fencing_token,
                        &message,
                        true,
                        retry_after,
                        now,
                        fastrand::f64(),
                    ),
                    Err(ToolError::Permanent { message }) => decide::fail(
                        state,
                        &step,
                        fencing_token,
                        &message,
                        false,
                        now,
                        fastrand::f64(),
                    ),
                }
            }
            Outcome::Compensation { error } => {
                let Some(run) = self.runs.get_mut(&run_id) else {
                    return;
                };
                run.compensating = false;
                decide::compensated(&run.state, &step, error)
            }
        };
        match kinds {
            Ok(kinds) => self.record(&run_id, kinds, now),
            // The run moved on (cancelled, unwinding): this outcome is no longer wanted.
            Err(refused) => tracing::debug!(%run_id, %step, %refused, "outcome not recorded"),
        }
    }

    /// Leases what can start, recovers expired leases, starts the next compensation.
    pub(super) fn schedule(&mut self, now: DateTime<Utc>) {
        let mut expired = Vec::new();
        let mut compensate = Vec::new();
        let mut ready = Vec::new();
        for (run_id, run) in self.runs.iter().filter(|(_, r)| r.owned) {
            let state = &run.state;
            for (index, step) in state.steps.iter().enumerate() {
                match step.status {
                    StepStatus::Leased if !run.in_flight.contains(&step.key) => {
                        if step.lease.as_ref().is_some_and(|l| l.expires_at <= now) {
                            expired.push((run_id.clone(), step.key.clone()));
                        }
                    }
                    StepStatus::Ready
                        if state.status == RunStatus::Running
                            && step.not_before.is_none_or(|at| at <= now) =>
                    {
                        ready.push((-state.priority, run.arrival, index, run_id.clone()));
                    }
                    _ => {}
                }
            }
            if state.status == RunStatus::Compensating
                && !run.compensating
                && let Some(next) = state.compensation_queue.first()
            {
                compensate.push((run_id.clone(), next.clone()));
            }
        }
        for (run_id, step) in expired {
            if let Some(run) = self.runs.get(&run_id)
                && let Ok(kinds) = decide::expire_lease(&run.state, &step, now, fastrand::f64())
            {
                self.record(&run_id, kinds, now);
            }
        }
        for (run_id, step) in compensate {
            if let Some(run) = self.runs.get_mut(&run_id) {
                run.compensating = true;
                self.actions.push(Action::Compensate { run_id, step });
            }
        }
        ready.sort();
        for (_, _, index, run_id) in ready {
            if self.running_total >= self.config.global_limit {
                break;
            }
            let Some(run) = self.runs.get(&run_id) else {
                continue;
            };
            if run.in_flight.len() >= self.config.per_run_limit
                || run.state.status != RunStatus::Running
            {
                continue;
            }
            let spec = &run.state.plan.steps[index];
            let agent_running = self.running_by_agent.get(&spec.agent).copied().unwrap_or(0);
            if let Some(&limit) = self.config.agent_limits.get(&spec.agent)
                && agent_running >= limit
            {
                continue;
            }
            let key = spec.key.clone();
            let agent = spec.agent.clone();
            let lease_for = self.config.lease_ttl;
            let Ok(kinds) = decide::lease(&run.state, &key, &self.config.worker_id, now, lease_for)
            else {
                continue;
            };
            let fencing_token = run.state.next_fencing_token;
            let attempt = run.state.steps[index].attempt + 1;
            self.record(&run_id, kinds, now);
            self.running_total += 1;
            *self.running_by_agent.entry(agent).or_default() += 1;
            if let Some(run) = self.runs.get_mut(&run_id) {
                run.in_flight.insert(key.clone());
            }
            self.actions.push(Action::Attempt {
                run_id,
                step: key,
                attempt,
                fencing_token,
            });
        }
    }
}
