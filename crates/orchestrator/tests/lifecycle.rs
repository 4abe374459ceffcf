//! Runs driven through the commands, the way the engine will drive them. After every command
//! the log is replayed from scratch and must equal the state built incrementally, and the
//! API's view of the state (`RunState::view`) must serialize exactly as the state does.

mod common;

use std::time::Duration;

use chrono::{DateTime, Utc};
use serde_json::{Value, json};
use switchyard_orchestrator::decide::{self, CommandError};
use switchyard_orchestrator::{EventKind, RunEvent, RunState, RunStatus, StepStatus};

const LEASE: Duration = Duration::from_secs(30);

struct Run {
    log: Vec<RunEvent>,
    state: RunState,
    now: DateTime<Utc>,
}

impl Run {
    fn new(plan: Value) -> Self {
        let created = common::created(plan, 0);
        let now = common::start_time();
        let state = RunState::replay([&created]).unwrap();
        Self {
            log: vec![created],
            state,
            now,
        }
    }

    /// Records the command's events; panics if it was refused.
    fn ok(&mut self, decided: Result<Vec<EventKind>, CommandError>) -> Vec<&'static str> {
        let kinds = decided.unwrap_or_else(|e| panic!("refused: {e}"));
        let names = kinds.iter().map(EventKind::name).collect();
        let appended = self.state.append(kinds, self.now).unwrap();
        self.log.extend(appended);
        assert_eq!(
            RunState::replay(&self.log).unwrap(),
            self.state,
            "replay diverged"
        );
        // The API answers with the view; it must say exactly what the state says.
        assert_eq!(
            serde_json::to_value(self.state.view()).unwrap(),
            serde_json::to_value(&self.state).unwrap(),
            "the API's view of the run differs from its state"
        );
        names
    }

    /// The command's refusal; the state must not have changed.
    fn refused(&mut self, decided: Result<Vec<EventKind>, CommandError>) -> String {
        let before = self.state.clone();
        let err = decided.expect_err("the command should have been refused");
        assert_eq!(self.state, before);
        err.to_string()
    }

    fn lease(&mut self, step: &str) -> u64 {
        let events = decide::lease(&self.state, step, "worker-1", self.now, LEASE);
        self.ok(events);
        self.state
            .step(step)
            .unwrap()
            .lease
            .as_ref()
            .unwrap()
            .fencing_token
    }

    fn status(&self, step: &str) -> StepStatus {
        self.state.step(step).unwrap().status
    }

    fn advance(&mut self, by: Duration) {
        self.now += chrono::Duration::from_std(by).unwrap();
    }
}

fn step(key: &str, deps: &[&str]) -> Value {
    json!({"key": key, "agent": "ops", "tool": "noop", "depends_on": deps})
}

fn with_compensation(mut s: Value) -> Value {
    s["compensation"] = json!({"tool": "noop", "input": {"undo": "{{steps.KEY.output.id}}".replace("KEY", s["key"].as_str().unwrap())}});
    s
}

#[test]
fn a_diamond_runs_in_dependency_order_and_succeeds() {
    let mut run = Run::new(json!({"steps": [
        step("a", &[]), step("b", &["a"]), step("c", &["a"]), step("d", &["b", "c"])
    ]}));
    assert_eq!(run.state.status, RunStatus::Queued);
    assert_eq!(run.ok(decide::start(&run.state)), ["run_started"]);
    assert_eq!(run.status("a"), StepStatus::Ready);
    assert_eq!(run.status("b"), StepStatus::Pending);
    let refused = run.refused(decide::lease(&run.state, "d", "w", run.now, LEASE));
    assert_eq!(refused, "step 'd' is pending, not ready");

    let a = run.lease("a");
    run.ok(decide::succeed(&run.state, "a", a, json!({"id": 1})));
    assert_eq!(
        (run.status("b"), run.status("c")),
        (StepStatus::Ready, StepStatus::Ready)
    );
    let b = run.lease("b");
    let c = run.lease("c");
    assert_eq!((b, c), (2, 3), "fencing tokens increase across the run");
    run.ok(decide::succeed(&run.state, "c", c, json!(null)));
    assert_eq!(run.status("d"), StepStatus::Pending, "d still waits for b");
    run.ok(decide::succeed(&run.state, "b", b, json!(null)));
    let d = run.lease("d");
    let names = run.ok(decide::succeed(&run.state, "d", d, json!("done")));
    assert_eq!(names, ["step_succeeded", "run_succeeded"]);
    assert_eq!(run.state.status, RunStatus::Succeeded);
    let late = run.refused(decide::cancel(&run.state, "ada", "too late"));
    assert_eq!(late, "the run is already succeeded");
}

#[test]
fn failures_retry_with_backoff_until_attempts_run_out() {
    let mut run = Run::new(json!({"steps": [
        {"key": "flaky", "agent": "ops", "tool": "noop", "retry": {"max_attempts": 3}}
    ]}));
    run.ok(decide::start(&run.state));
    let t1 = run.lease("flaky");
    run.ok(decide::fail(
        &run.state, "flaky", t1, "timeout", true, run.now, 0.5,
    ));
    let s = run.state.step("flaky").unwrap();
    assert_eq!(s.status, StepStatus::Ready);
    assert_eq!(s.not_before, Some(run.now + chrono::Duration::seconds(1)));
    assert_eq!(s.error.as_deref(), Some("timeout"));

    let early = run.refused(decide::lease(&run.state, "flaky", "w", run.now, LEASE));
    assert!(early.starts_with("step 'flaky' waits until"), "{early}");
    run.advance(Duration::from_secs(1));
    let t2 = run.lease("flaky");
    assert_eq!(run.state.step("flaky").unwrap().attempt, 2);
    run.ok(decide::fail(
        &run.state, "flaky", t2, "timeout", true, run.now, 0.5,
    ));
    assert_eq!(
        run.state.step("flaky").unwrap().not_before,
        Some(run.now + chrono::Duration::seconds(2)),
        "the second wait doubles"
    );
    run.advance(Duration::from_secs(2));
    let t3 = run.lease("flaky");
    let names = run.ok(decide::fail(
        &run.state, "flaky", t3, "timeout", true, run.now, 0.5,
    ));
    assert_eq!(
        names,
        ["step_failed", "run_failed"],
        "no attempts left, nothing to compensate"
    );
    assert_eq!(run.state.status, RunStatus::Failed);
    assert_eq!(
        run.state.reason.as_deref(),
        Some("step 'flaky' failed: timeout")
    );
}

#[test]
fn a_permanent_error_fails_at_once() {
    let mut run = Run::new(json!({"steps": [step("a", &[]), step("b", &["a"])]}));
    run.ok(decide::start(&run.state));
    let t = run.lease("a");
    let names = run.ok(decide::fail(
        &run.state,
        "a",
        t,
        "bad input",
        false,
        run.now,
        0.5,
    ));
    assert_eq!(names, ["step_failed", "run_failed"]);
    assert_eq!(run.status("b"), StepStatus::Skipped);
}

#[test]
fn an_expired_lease_is_reclaimed_and_the_old_token_is_rejected() {
    let mut run = Run::new(json!({"steps": [step("a", &[])]}));
    run.ok(decide::start(&run.state));
    let old = run.lease("a");
    let early = run.refused(decide::expire_lease(&run.state, "a", run.now, 0.5));
    assert!(
        early.starts_with("the lease on step 'a' runs until"),
        "{early}"
    );

    // A heartbeat keeps it alive; then the worker goes silent.
    run.advance(Duration::from_secs(20));
    run.ok(decide::heartbeat(&run.state, "a", old, run.now, LEASE));
    run.advance(Duration::from_secs(31));
    assert_eq!(
        run.ok(decide::expire_lease(&run.state, "a", run.now, 0.5)),
        ["lease_expired"]
    );
    run.advance(Duration::from_secs(1));
    let new = run.lease("a");
    assert!(new > old);

    // The presumed-dead worker comes back: its completion is refused, nothing changes.
    let stale = run.refused(decide::succeed(&run.state, "a", old, json!("late")));
    assert_eq!(
        stale,
        format!("stale fencing token {old} for step 'a' (current {new})")
    );
    let stale_beat = run.refused(decide::heartbeat(&run.state, "a", old, run.now, LEASE));
    assert!(stale_beat.starts_with("stale fencing token"));
    run.ok(decide::succeed(&run.state, "a", new, json!("fresh")));
    assert_eq!(run.state.step("a").unwrap().output, Some(json!("fresh")));
    assert_eq!(run.state.status, RunStatus::Succeeded);
}

#[test]
fn a_failure_compensates_completed_steps_in_reverse_completion_order() {
    let mut run = Run::new(json!({"steps": [
        with_compensation(step("book_flight", &[])),
        with_compensation(step("book_hotel", &[])),
        step("notify", &[]),
        step("charge", &["book_flight", "book_hotel", "notify"])
    ]}));
    run.ok(decide::start(&run.state));
    let (f, h, n) = (
        run.lease("book_flight"),
        run.lease("book_hotel"),
        run.lease("notify"),
    );
    run.ok(decide::succeed(
        &run.state,
        "book_hotel",
        h,
        json!({"id": "H1"}),
    ));
    run.ok(decide::succeed(&run.state, "notify", n, json!(null)));
    run.ok(decide::succeed(
        &run.state,
        "book_flight",
        f,
        json!({"id": "F1"}),
    ));
    let c = run.lease("charge");
    let names = run.ok(decide::fail(
        &run.state,
        "charge",
        c,
        "card declined",
        false,
        run.now,
        0.5,
    ));
    assert_eq!(names, ["step_failed", "compensation_started"]);
    assert_eq!(run.state.status, RunStatus::Compensating);
    assert_eq!(
        run.state.compensation_queue,
        ["book_flight", "book_hotel"],
        "flight completed last, so it is undone first; notify has no compensation"
    );

    let out_of_order = run.refused(decide::compensated(&run.state, "book_hotel", None));
    assert!(
        out_of_order.starts_with("'book_hotel' is not next to compensate"),
        "{out_of_order}"
    );
    run.ok(decide::compensated(&run.state, "book_flight", None));
    let names = run.ok(decide::compensated(
        &run.state,
        "book_hotel",
        Some("hotel API down".into()),
    ));
    assert_eq!(names, ["step_compensated", "run_failed"]);
    assert_eq!(run.state.status, RunStatus::Failed);
    assert_eq!(run.state.compensated, ["book_flight"]);
    assert_eq!(run.status("book_flight"), StepStatus::Compensated);
    let hotel = run.state.step("book_hotel").unwrap();
    assert_eq!(
        hotel.status,
        StepStatus::Succeeded,
        "a failed compensation leaves it done"
    );
    assert_eq!(hotel.compensation_error.as_deref(), Some("hotel API down"));
    match &run.log.last().unwrap().kind {
        EventKind::RunFailed {
            reason,
            compensated,
        } => {
            assert_eq!(reason, "step 'charge' failed: card declined");
            assert_eq!(compensated, &["book_flight"]);
        }
        other => panic!("last event is {other:?}"),
    }
}

#[test]
fn risky_steps_wait_for_approval_and_rejection_starts_the_saga() {
    let plan = json!({"steps": [
        with_compensation(step("prepare", &[])),
        {"key": "deploy", "agent": "ops", "tool": "noop", "depends_on": ["prepare"], "risk": 0.9},
        {"key": "announce", "agent": "ops", "tool": "noop", "depends_on": ["deploy"], "risk": 0.7}
    ]});

    // Approve path.
    let mut run = Run::new(plan.clone());
    run.ok(decide::start(&run.state));
    let p = run.lease("prepare");
    let wrong = run.refused(decide::approve(&run.state, "prepare", "ada", "ok"));
    assert_eq!(wrong, "step 'prepare' is leased, not awaiting_approval");
    run.ok(decide::succeed(&run.state, "prepare", p, json!({"id": 7})));
    assert_eq!(run.status("deploy"), StepStatus::AwaitingApproval);
    assert_eq!(run.state.status, RunStatus::AwaitingApproval);
    let unknown = run.refused(decide::approve(&run.state, "nope", "ada", "ok"));
    assert_eq!(unknown, "unknown step 'nope'");
    run.ok(decide::approve(
        &run.state,
        "deploy",
        "ada",
        "change ticket 42 reviewed",
    ));
    assert_eq!(run.state.status, RunStatus::Running);
    let approval = run.state.step("deploy").unwrap().approval.clone().unwrap();
    assert_eq!((approval.approved, approval.by.as_str()), (true, "ada"));
    assert_eq!(approval.rationale, "change ticket 42 reviewed");
    let d = run.lease("deploy");
    run.ok(decide::succeed(&run.state, "deploy", d, json!(null)));
    assert_eq!(
        run.status("announce"),
        StepStatus::AwaitingApproval,
        "0.7 is at the threshold"
    );

    // Reject path: the saga undoes `prepare`.
    let mut run = Run::new(plan);
    run.ok(decide::start(&run.state));
    let p = run.lease("prepare");
    run.ok(decide::succeed(&run.state, "prepare", p, json!({"id": 7})));
    let names = run.ok(decide::reject(
        &run.state,
        "deploy",
        "grace",
        "outside the change window",
    ));
    assert_eq!(names, ["step_rejected", "compensation_started"]);
    assert_eq!(run.state.compensation_queue, ["prepare"]);
    assert_eq!(
        run.state.step("deploy").unwrap().error.as_deref(),
        Some("rejected by grace: outside the change window")
    );
    assert_eq!(run.status("announce"), StepStatus::Skipped);
    run.ok(decide::compensated(&run.state, "prepare", None));
    assert_eq!(run.state.status, RunStatus::Failed);
}

#[test]
fn pause_holds_new_leases_but_lets_running_steps_finish() {
    let mut run = Run::new(json!({"steps": [step("a", &[]), step("b", &[])]}));
    run.ok(decide::start(&run.state));
    let a = run.lease("a");
    let running = run.refused(decide::resume(&run.state, "ada"));
    assert_eq!(running, "the run is running");
    run.ok(decide::pause(&run.state, "ada"));
    assert_eq!(run.state.status, RunStatus::Paused);
    let held = run.refused(decide::lease(&run.state, "b", "w", run.now, LEASE));
    assert_eq!(held, "the run is paused");
    run.ok(decide::succeed(&run.state, "a", a, json!(1)));
    run.ok(decide::resume(&run.state, "ada"));
    let b = run.lease("b");
    run.ok(decide::succeed(&run.state, "b", b, json!(2)));
    assert_eq!(run.state.status, RunStatus::Succeeded);
}

#[test]
fn cancel_skips_what_has_not_finished_and_ends_the_run() {
    let mut run = Run::new(json!({"steps": [step("a", &[]), step("b", &["a"])]}));
    run.ok(decide::start(&run.state));
    let a = run.lease("a");
    run.ok(decide::cancel(&run.state, "ada", "wrong goal"));
    assert_eq!(run.state.status, RunStatus::Cancelled);
    assert_eq!(
        (run.status("a"), run.status("b")),
        (StepStatus::Skipped, StepStatus::Skipped)
    );
    assert_eq!(
        run.state.reason.as_deref(),
        Some("cancelled by ada: wrong goal")
    );
    let late = run.refused(decide::succeed(&run.state, "a", a, json!(1)));
    assert_eq!(late, "the run is already cancelled");
}

#[test]
fn replay_refuses_a_log_with_a_gap_or_a_wrong_start() {
    let mut run = Run::new(json!({"steps": [step("a", &[])]}));
    run.ok(decide::start(&run.state));
    run.lease("a");
    let mut gapped = run.log.clone();
    gapped.remove(1);
    let err = RunState::replay(&gapped).unwrap_err().to_string();
    assert_eq!(
        err,
        "event 3 (step_leased) cannot be applied: expected seq 2, got 3"
    );
    let headless = RunState::replay(&run.log[1..]).unwrap_err().to_string();
    assert_eq!(
        headless,
        "event 2 (run_started) cannot be applied: a log must start with run_created"
    );
    assert!(RunState::replay(&[]).is_err());
}
