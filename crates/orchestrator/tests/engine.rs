//! The engine running real plans with real tools on a real SQLite file (and one run on the
//! real PostgreSQL). Each test waits for the run to end and checks the stored log replays to
//! the stored state.
//!
//! Over 600 lines on purpose: one harness (tools that record what ran, the replay check) shared
//! by every engine scenario; split by behaviour when a second harness appears.

use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde_json::{Value, json};
use switchyard_db::testing::TempPostgres;
use switchyard_db::{ConnectOptions, Database, DatabaseUrl, migrate};
use switchyard_orchestrator::catalog::ToolAccess;
use switchyard_orchestrator::engine::{
    Engine, EngineConfig, EngineError, RunCommand, SubmitOptions,
};
use switchyard_orchestrator::runlog::{RunLog, Verification};
use switchyard_orchestrator::tools::builtin::{Approval, Fail, Noop, Sleep};
use switchyard_orchestrator::tools::subrun::Subrun;
use switchyard_orchestrator::tools::{Tool, ToolContext, ToolFuture};
use switchyard_orchestrator::{
    AgentSpec, Catalog, EventKind, Plan, RunState, RunStatus, StepStatus, ToolSpec,
};

/// Sleeps `ms` and records how many probes ran at once: overall, and per label (each input
/// names its labels, e.g. its run and its agent).
#[derive(Default)]
struct Probe {
    now: AtomicUsize,
    max: AtomicUsize,
    by_label: Mutex<HashMap<String, (usize, usize)>>,
}

impl Tool for Probe {
    fn spec(&self) -> ToolSpec {
        ToolSpec {
            name: "probe".into(),
            description: String::new(),
            input_schema: json!({"type": "object", "required": ["ms", "labels"]}),
            default_risk: 0.0,
        }
    }

    fn run<'a>(&'a self, _ctx: &'a ToolContext, input: Value) -> ToolFuture<'a> {
        Box::pin(async move {
            let labels: Vec<String> = serde_json::from_value(input["labels"].clone()).unwrap();
            let now = self.now.fetch_add(1, Ordering::SeqCst) + 1;
            self.max.fetch_max(now, Ordering::SeqCst);
            {
                let mut by = self.by_label.lock().unwrap();
                for label in &labels {
                    let entry = by.entry(label.clone()).or_default();
                    entry.0 += 1;
                    entry.1 = entry.1.max(entry.0);
                }
            }
            tokio::time::sleep(Duration::from_millis(input["ms"].as_u64().unwrap())).await;
            {
                let mut by = self.by_label.lock().unwrap();
                for label in &labels {
                    by.get_mut(label).unwrap().0 -= 1;
                }
            }
            self.now.fetch_sub(1, Ordering::SeqCst);
            Ok(json!({"label": labels[0]}))
        })
    }
}

/// Appends `note` to a shared journal: the effects a run had, in order.
#[derive(Default)]
struct Journal(Mutex<Vec<String>>);

impl Tool for Journal {
    fn spec(&self) -> ToolSpec {
        ToolSpec {
            name: "journal".into(),
            description: String::new(),
            input_schema: json!({"type": "object", "required": ["note"]}),
            default_risk: 0.0,
        }
    }

    fn run<'a>(&'a self, ctx: &'a ToolContext, input: Value) -> ToolFuture<'a> {
        Box::pin(async move {
            let note = input["note"].as_str().unwrap().to_owned();
            self.0.lock().unwrap().push(note.clone());
            Ok(json!({"note": note, "key": ctx.idempotency_key}))
        })
    }
}

struct Setup {
    _dir: Option<tempfile::TempDir>,
    db: Database,
    probe: Arc<Probe>,
    journal: Arc<Journal>,
}

impl Setup {
    async fn sqlite() -> Self {
        let dir = tempfile::tempdir().unwrap();
        let db = Database::connect(
            &DatabaseUrl::sqlite(dir.path().join("engine.db")),
            &ConnectOptions::default(),
        )
        .await
        .unwrap();
        Self::with(db, Some(dir)).await
    }

    async fn with(db: Database, dir: Option<tempfile::TempDir>) -> Self {
        migrate::run(&db).await.unwrap();
        Self {
            _dir: dir,
            db,
            probe: Arc::default(),
            journal: Arc::default(),
        }
    }

    async fn engine(&self, config: EngineConfig) -> Engine {
        let tools: Vec<Arc<dyn Tool>> = vec![
            Arc::new(Noop),
            Arc::new(Sleep),
            Arc::new(Fail),
            Arc::new(Approval),
            Arc::new(Subrun),
            self.probe.clone(),
            self.journal.clone(),
        ];
        let catalog = Catalog::new(
            tools.iter().map(|t| t.spec()),
            [
                AgentSpec::new("ops", ToolAccess::Any),
                AgentSpec::new("slow", ToolAccess::Any),
            ],
        )
        .unwrap();
        Engine::start(RunLog::new(self.db.clone()), catalog, tools, config)
            .await
            .unwrap()
    }

    async fn verify(&self, run_id: &str) {
        let store = RunLog::new(self.db.clone());
        assert_eq!(store.verify(run_id).await.unwrap(), Verification::Matches);
    }
}

fn plan(value: Value) -> Plan {
    serde_json::from_value(value).unwrap()
}

/// Polls until the run ends (or `until` holds), failing after 20 s.
async fn wait_for(engine: &Engine, run_id: &str, until: impl Fn(&RunState) -> bool) -> RunState {
    for _ in 0..2_000 {
        let state = engine.state(run_id).await.unwrap();
        if until(&state) {
            return state;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    panic!(
        "run {run_id} did not get there: {:?}",
        engine.state(run_id).await.unwrap().status
    );
}

async fn wait_final(engine: &Engine, run_id: &str) -> RunState {
    wait_for(engine, run_id, |s| s.status.is_final()).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_dag_runs_in_dependency_order_with_its_branches_in_parallel() {
    let setup = Setup::sqlite().await;
    let engine = setup.engine(EngineConfig::default()).await;
    let mut events = engine.subscribe();
    let probe = |label: &str, deps: &[&str]| {
        json!({"key": label, "agent": "ops", "tool": "probe",
               "input": {"ms": 150, "labels": [label]}, "depends_on": deps})
    };
    let id = engine
        .submit(
            plan(json!({"steps": [
                probe("a", &[]), probe("b", &["a"]), probe("c", &["a"]),
                {"key": "d", "agent": "ops", "tool": "journal", "depends_on": ["b", "c"],
                 "input": {"note": "after {{steps.b.output.label}} and {{steps.c.output.label}}"}}
            ]})),
            0,
        )
        .await
        .unwrap();
    let done = wait_final(&engine, &id).await;
    assert_eq!(done.status, RunStatus::Succeeded);
    assert_eq!(
        done.step("d").unwrap().output.as_ref().unwrap()["note"],
        "after b and c",
        "templates read upstream outputs"
    );
    assert_eq!(
        setup.probe.max.load(Ordering::SeqCst),
        2,
        "b and c ran together"
    );

    // The run reads as final from the store as soon as d's completion is committed; its
    // StepSucceeded event may reach subscribers a moment later, so wait for all four.
    let mut order = Vec::new();
    while order.len() < 4 {
        let (run, event) = tokio::time::timeout(Duration::from_secs(10), events.recv())
            .await
            .unwrap_or_else(|_| panic!("only these steps reported success: {order:?}"))
            .unwrap();
        assert_eq!(run, id);
        if let EventKind::StepSucceeded { step, .. } = event.kind {
            order.push(step);
        }
    }
    assert_eq!(order.first().map(String::as_str), Some("a"), "{order:?}");
    assert_eq!(order.last().map(String::as_str), Some("d"), "{order:?}");
    setup.verify(&id).await;
    engine.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fifty_runs_never_exceed_the_global_per_run_and_per_agent_limits() {
    let setup = Setup::sqlite().await;
    let config = EngineConfig {
        global_limit: 6,
        per_run_limit: 2,
        agent_limits: HashMap::from([("slow".to_owned(), 2)]),
        ..EngineConfig::default()
    };
    let engine = setup.engine(config).await;
    let mut ids = Vec::new();
    for run in 0..50 {
        let steps: Vec<Value> = (0..4)
            .map(|i| {
                let agent = if i % 2 == 0 { "ops" } else { "slow" };
                json!({"key": format!("s{i}"), "agent": agent, "tool": "probe",
                       "input": {"ms": 15, "labels": [format!("run-{run}"), format!("agent-{agent}")]}})
            })
            .collect();
        ids.push(
            engine
                .submit(plan(json!({ "steps": steps })), run % 3)
                .await
                .unwrap(),
        );
    }
    for id in &ids {
        assert_eq!(wait_final(&engine, id).await.status, RunStatus::Succeeded);
    }
    let max = setup.probe.max.load(Ordering::SeqCst);
    assert!(max <= 6, "global limit exceeded: {max}");
    assert!(max >= 3, "runs should overlap: max {max}");
    let by_label = setup.probe.by_label.lock().unwrap().clone();
    for run in 0..50 {
        let most = by_label[&format!("run-{run}")].1;
        assert!(
            most <= 2,
            "run {run}: {most} steps at once exceed the per-run limit of 2"
        );
    }
    let slow = by_label["agent-slow"].1;
    assert_eq!(slow, 2, "agent 'slow' runs at its limit of 2, never above");
    assert!(
        by_label["agent-ops"].1 > 2,
        "agent 'ops' has no limit of its own"
    );
    for id in ids.iter().take(5) {
        setup.verify(id).await;
    }
    engine.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_flaky_step_is_retried_with_backoff_until_it_succeeds() {
    let setup = Setup::sqlite().await;
    let engine = setup.engine(EngineConfig::default()).await;
    let id = engine
        .submit(
            plan(json!({"steps": [
                {"key": "flaky", "agent": "ops", "tool": "fail",
                 "input": {"message": "not yet", "succeed_from_attempt": 3},
                 "retry": {"max_attempts": 3, "initial_backoff_ms": 20, "max_backoff_ms": 40}}
            ]})),
            0,
        )
        .await
        .unwrap();
    let done = wait_final(&engine, &id).await;
    assert_eq!(done.status, RunStatus::Succeeded);
    let step = done.step("flaky").unwrap();
    assert_eq!(step.attempt, 3);
    assert_eq!(step.output, Some(json!({"attempt": 3})));
    let store = RunLog::new(setup.db.clone());
    let failures = store
        .events(&id, 0)
        .await
        .unwrap()
        .into_iter()
        .filter(|e| {
            matches!(
                &e.kind,
                EventKind::StepFailed {
                    retry_at: Some(_),
                    ..
                }
            )
        })
        .count();
    assert_eq!(failures, 2);
    setup.verify(&id).await;
    engine.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failure_runs_the_compensations_in_reverse_order() {
    let setup = Setup::sqlite().await;
    let engine = setup.engine(EngineConfig::default()).await;
    let note = |key: &str, deps: &[&str]| {
        json!({"key": key, "agent": "ops", "tool": "journal", "input": {"note": format!("do {key}")},
               "depends_on": deps,
               "compensation": {"tool": "journal", "input": {"note": format!("undo {key} ({{{{steps.{key}.output.key}}}})")}}})
    };
    let id = engine
        .submit(
            plan(json!({"steps": [
                note("reserve", &[]), note("charge", &["reserve"]),
                {"key": "ship", "agent": "ops", "tool": "fail", "depends_on": ["charge"],
                 "input": {"message": "warehouse closed", "retryable": false}}
            ]})),
            0,
        )
        .await
        .unwrap();
    let done = wait_final(&engine, &id).await;
    assert_eq!(done.status, RunStatus::Failed);
    assert_eq!(done.compensated, ["charge", "reserve"]);
    assert_eq!(
        done.reason.as_deref(),
        Some("step 'ship' failed: warehouse closed")
    );
    let journal = setup.journal.0.lock().unwrap().clone();
    assert_eq!(
        journal,
        [
            "do reserve".to_owned(),
            "do charge".to_owned(),
            format!("undo charge ({id}:charge:1)"),
            format!("undo reserve ({id}:reserve:1)"),
        ]
    );
    setup.verify(&id).await;
    engine.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn risky_steps_wait_for_a_person() {
    let setup = Setup::sqlite().await;
    let engine = setup.engine(EngineConfig::default()).await;
    let gated = plan(json!({"steps": [
        {"key": "gate", "agent": "ops", "tool": "approval", "input": {"summary": "deploy v2"}},
        {"key": "deploy", "agent": "ops", "tool": "journal", "input": {"note": "deployed"},
         "depends_on": ["gate"]}
    ]}));

    let approved = engine.submit(gated.clone(), 0).await.unwrap();
    let waiting = wait_for(&engine, &approved, |s| {
        s.status == RunStatus::AwaitingApproval
    })
    .await;
    assert_eq!(
        waiting.step("gate").unwrap().status,
        StepStatus::AwaitingApproval
    );
    let approve = |step: &str| RunCommand::Approve {
        step: step.into(),
        by: "ada".into(),
        rationale: "checked".into(),
    };
    let err = engine
        .command(&approved, approve("deploy"))
        .await
        .unwrap_err();
    assert_eq!(
        err.to_string(),
        "step 'deploy' is pending, not awaiting_approval"
    );
    engine.command(&approved, approve("gate")).await.unwrap();
    assert_eq!(
        wait_final(&engine, &approved).await.status,
        RunStatus::Succeeded
    );
    let late = engine
        .command(&approved, approve("gate"))
        .await
        .unwrap_err();
    assert_eq!(late.to_string(), "the run is already succeeded");

    let rejected = engine.submit(gated, 0).await.unwrap();
    wait_for(&engine, &rejected, |s| {
        s.status == RunStatus::AwaitingApproval
    })
    .await;
    let reject = RunCommand::Reject {
        step: "gate".into(),
        by: "grace".into(),
        rationale: "not today".into(),
    };
    engine.command(&rejected, reject).await.unwrap();
    let done = wait_final(&engine, &rejected).await;
    assert_eq!(done.status, RunStatus::Failed);
    assert_eq!(done.step("deploy").unwrap().status, StepStatus::Skipped);
    assert_eq!(setup.journal.0.lock().unwrap().as_slice(), ["deployed"]);
    setup.verify(&approved).await;
    setup.verify(&rejected).await;
    engine.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cancel_stops_running_steps_and_timeouts_fail_attempts() {
    let setup = Setup::sqlite().await;
    let engine = setup.engine(EngineConfig::default()).await;
    let long = engine
        .submit(
            plan(json!({"steps": [
                {"key": "wait", "agent": "ops", "tool": "sleep", "input": {"ms": 600_000}},
                {"key": "after", "agent": "ops", "tool": "noop", "depends_on": ["wait"]}
            ]})),
            0,
        )
        .await
        .unwrap();
    wait_for(&engine, &long, |s| {
        s.step("wait").unwrap().status == StepStatus::Leased
    })
    .await;
    let cancel = RunCommand::Cancel {
        by: "ada".into(),
        reason: "wrong goal".into(),
    };
    engine.command(&long, cancel).await.unwrap();
    let cancelled = wait_final(&engine, &long).await;
    assert_eq!(cancelled.status, RunStatus::Cancelled);
    assert_eq!(cancelled.step("after").unwrap().status, StepStatus::Skipped);

    let slow = engine
        .submit(
            plan(json!({"steps": [
                {"key": "slow", "agent": "ops", "tool": "sleep", "input": {"ms": 5_000},
                 "timeout_s": 1, "retry": {"max_attempts": 1}}
            ]})),
            0,
        )
        .await
        .unwrap();
    let timed_out = wait_final(&engine, &slow).await;
    assert_eq!(timed_out.status, RunStatus::Failed);
    assert_eq!(
        timed_out.step("slow").unwrap().error.as_deref(),
        Some("timed out after 1 s")
    );
    setup.verify(&long).await;
    setup.verify(&slow).await;
    engine.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_new_engine_resumes_what_a_stopped_one_left_and_records_nothing_twice() {
    let setup = Setup::sqlite().await;
    let config = EngineConfig::default();
    let first = setup.engine(config.clone()).await;
    let id = first
        .submit(
            plan(json!({"steps": [
                {"key": "a", "agent": "ops", "tool": "journal", "input": {"note": "a"}},
                {"key": "b", "agent": "ops", "tool": "sleep", "input": {"ms": 60_000},
                 "timeout_s": 1, "depends_on": ["a"]},
                {"key": "c", "agent": "ops", "tool": "journal", "input": {"note": "c"},
                 "depends_on": ["a"]}
            ]})),
            0,
        )
        .await
        .unwrap();
    wait_for(&first, &id, |s| {
        s.step("b").unwrap().status == StepStatus::Leased
            && s.step("c").unwrap().status == StepStatus::Succeeded
    })
    .await;
    first.shutdown().await;

    // The second engine finds b leased by the first, which stopped: on SQLite (one process)
    // it reclaims the lease at once, without waiting out the 30 s TTL, and retries b.
    let second = setup.engine(config).await;
    let done = wait_for(&second, &id, |s| s.step("b").unwrap().attempt >= 2).await;
    assert!(done.step("b").unwrap().status != StepStatus::Succeeded);
    let cancel = RunCommand::Cancel {
        by: "test".into(),
        reason: "b sleeps for a minute".into(),
    };
    second.command(&id, cancel).await.unwrap();
    wait_final(&second, &id).await;
    assert_eq!(
        setup.journal.0.lock().unwrap().as_slice(),
        ["a", "c"],
        "finished steps are not run again"
    );
    setup.verify(&id).await;
    second.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_plans_and_unknown_runs_are_refused() {
    let setup = Setup::sqlite().await;
    let engine = setup.engine(EngineConfig::default()).await;
    let err = engine
        .submit(
            plan(json!({"steps": [{"key": "x", "agent": "ops", "tool": "teleport"}]})),
            0,
        )
        .await
        .unwrap_err();
    assert!(matches!(err, EngineError::InvalidPlan(_)));
    assert!(err.to_string().contains("unknown tool 'teleport'"), "{err}");
    let unknown = engine.state("no-such-run").await.unwrap_err();
    assert_eq!(unknown.to_string(), "run no-such-run not found");
    let pause = RunCommand::Pause { by: "ada".into() };
    let unknown = engine.command("no-such-run", pause).await.unwrap_err();
    assert_eq!(unknown.to_string(), "run no-such-run not found");
    engine.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_goal_that_could_not_be_planned_is_recorded_as_a_failed_run() {
    let setup = Setup::sqlite().await;
    let engine = setup.engine(EngineConfig::default()).await;
    let options = SubmitOptions {
        idempotency_key: Some("goal-1".into()),
        ..SubmitOptions::default()
    };
    let first = engine
        .record_unplanned("planning failed: no valid plan".into(), options.clone())
        .await
        .unwrap();
    assert!(first.created);
    let state = engine.state(&first.run_id).await.unwrap();
    assert_eq!(state.status, RunStatus::Failed);
    assert_eq!(
        state.reason.as_deref(),
        Some("planning failed: no valid plan")
    );
    assert!(state.steps.is_empty());
    let again = engine
        .record_unplanned("planning failed again".into(), options)
        .await
        .unwrap();
    assert_eq!(
        again.run_id, first.run_id,
        "the idempotency key holds here too"
    );
    assert!(!again.created);
    setup.verify(&first.run_id).await;
    engine.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_engine_runs_on_postgres_too() {
    let pg = TempPostgres::create().await;
    let db = Database::connect(
        &DatabaseUrl::parse(&pg.url).unwrap(),
        &ConnectOptions::default(),
    )
    .await
    .unwrap();
    let setup = Setup::with(db.clone(), None).await;
    let engine = setup.engine(EngineConfig::default()).await;
    let id = engine
        .submit(
            plan(json!({"steps": [
                {"key": "a", "agent": "ops", "tool": "journal", "input": {"note": "a"}},
                {"key": "b", "agent": "ops", "tool": "fail", "depends_on": ["a"],
                 "input": {"succeed_from_attempt": 2},
                 "retry": {"initial_backoff_ms": 10, "max_backoff_ms": 10}}
            ]})),
            0,
        )
        .await
        .unwrap();
    assert_eq!(wait_final(&engine, &id).await.status, RunStatus::Succeeded);
    setup.verify(&id).await;
    engine.shutdown().await;
    db.close().await;
    pg.drop_database().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_starting_engine_runs_due_work_without_waiting_for_a_message() {
    let setup = Setup::sqlite().await;
    // A run recorded by an earlier process: started, its first step ready, nothing leased.
    let store = RunLog::new(setup.db.clone());
    let plan = plan(json!({"steps": [
        {"key": "a", "agent": "ops", "tool": "noop"},
        {"key": "b", "agent": "ops", "tool": "noop", "depends_on": ["a"]}
    ]}));
    let catalog = Catalog::new([Noop.spec()], [AgentSpec::new("ops", ToolAccess::Any)]).unwrap();
    let valid = switchyard_orchestrator::validate(plan, &catalog, &Default::default()).unwrap();
    let now = chrono::Utc::now();
    let created = switchyard_orchestrator::RunEvent {
        seq: 1,
        at: now,
        kind: switchyard_orchestrator::decide::create(
            valid,
            0.7,
            switchyard_orchestrator::decide::Origin {
                project: "default".into(),
                ..Default::default()
            },
        ),
    };
    let mut state = RunState::replay([&created]).unwrap();
    let started = switchyard_orchestrator::RunEvent {
        seq: 2,
        at: now,
        kind: EventKind::RunStarted,
    };
    state.apply(&started).unwrap();
    store
        .commit(&[switchyard_orchestrator::runlog::RunChange::new(
            "resumed".into(),
            0,
            vec![created, started],
            state,
        )])
        .await
        .unwrap();

    // No submission, no command, no question to the engine (a question would wake it): it
    // must pick the run up by itself. Watch through the store only.
    let engine = setup.engine(EngineConfig::default()).await;
    let mut status = RunStatus::Running;
    for _ in 0..1_000 {
        status = store.state("resumed").await.unwrap().status;
        if status.is_final() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    assert_eq!(
        status,
        RunStatus::Succeeded,
        "the resumed run must finish within 10 s"
    );
    setup.verify("resumed").await;
    engine.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn heartbeats_keep_a_long_attempt_leased_past_the_lease_ttl() {
    let setup = Setup::sqlite().await;
    let engine = setup
        .engine(EngineConfig {
            lease_ttl: Duration::from_millis(300),
            ..EngineConfig::default()
        })
        .await;
    let id = engine
        .submit(
            plan(
                json!({"steps": [{"key": "long", "agent": "ops", "tool": "sleep",
                                    "input": {"ms": 1_200}, "timeout_s": 5}]}),
            ),
            0,
        )
        .await
        .unwrap();
    let done = wait_final(&engine, &id).await;
    assert_eq!(done.status, RunStatus::Succeeded);
    assert_eq!(done.step("long").unwrap().attempt, 1, "never taken away");
    let log = RunLog::new(setup.db.clone()).events(&id, 0).await.unwrap();
    let extended = log
        .iter()
        .filter(|e| matches!(e.kind, EventKind::LeaseExtended { .. }))
        .count();
    let expired = log
        .iter()
        .filter(|e| matches!(e.kind, EventKind::LeaseExpired { .. }))
        .count();
    // 1.2 s under a 300 ms lease renewed every 100 ms when a third of it is left.
    assert!(extended >= 3, "{extended} renewals");
    assert_eq!(expired, 0);
    setup.verify(&id).await;
    engine.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_subrun_step_runs_a_child_and_returns_its_outputs() {
    let setup = Setup::sqlite().await;
    let engine = setup.engine(EngineConfig::default()).await;
    let child = json!({"steps": [
        {"key": "x", "agent": "ops", "tool": "journal", "input": {"note": "child x"}},
        {"key": "y", "agent": "ops", "tool": "noop", "input": {"from": "{{steps.x.output.note}}"},
         "depends_on": ["x"]}
    ]});
    let id = engine
        .submit(
            plan(json!({"steps": [
                {"key": "child", "agent": "ops", "tool": "subrun", "input": {"plan": child}},
                {"key": "after", "agent": "ops", "tool": "noop", "depends_on": ["child"],
                 "input": {"got": "{{steps.child.output.outputs.y.from}}"}}
            ]})),
            0,
        )
        .await
        .unwrap();
    let done = wait_final(&engine, &id).await;
    assert_eq!(done.status, RunStatus::Succeeded, "{:?}", done.reason);
    let output = done.step("child").unwrap().output.clone().unwrap();
    assert_eq!(output["status"], "succeeded");
    assert_eq!(
        done.step("after").unwrap().output.as_ref().unwrap()["got"],
        "child x"
    );
    let child_id = output["run_id"].as_str().unwrap().to_owned();
    assert_eq!(
        engine.state(&child_id).await.unwrap().status,
        RunStatus::Succeeded
    );
    setup.verify(&id).await;
    setup.verify(&child_id).await;

    // A failing child fails the step for good, with the child's reason.
    let failing = engine
        .submit(
            plan(
                json!({"steps": [{"key": "child", "agent": "ops", "tool": "subrun",
                "retry": {"max_attempts": 3, "initial_backoff_ms": 10},
                "input": {"plan": {"steps": [{"key": "boom", "agent": "ops", "tool": "fail",
                    "input": {"message": "no luck"}, "retry": {"max_attempts": 1}}]}}}]}),
            ),
            0,
        )
        .await
        .unwrap();
    let failed = wait_final(&engine, &failing).await;
    assert_eq!(failed.status, RunStatus::Failed);
    let step = failed.step("child").unwrap();
    assert_eq!(step.attempt, 1, "a failed child is not retried");
    assert!(
        step.error.as_deref().unwrap().contains("no luck"),
        "{:?}",
        step.error
    );

    // Cancelling the parent cancels the child it is waiting for.
    let waiting = engine
        .submit(
            plan(
                json!({"steps": [{"key": "child", "agent": "ops", "tool": "subrun",
                "input": {"plan": {"steps": [{"key": "nap", "agent": "ops", "tool": "sleep",
                    "input": {"ms": 60_000}, "timeout_s": 120}]}}}]}),
            ),
            0,
        )
        .await
        .unwrap();
    wait_for(&engine, &waiting, |s| {
        s.step("child").unwrap().status == StepStatus::Leased
    })
    .await;
    let store = RunLog::new(setup.db.clone());
    let child_id = loop {
        let runs = store.list(None, None, None, 10).await.unwrap();
        if let Some(run) = runs.iter().find(|r| r.id > waiting) {
            break run.id.clone();
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    };
    let cancel = RunCommand::Cancel {
        by: "test".into(),
        reason: "enough".into(),
    };
    engine.command(&waiting, cancel).await.unwrap();
    let child = wait_final(&engine, &child_id).await;
    assert_eq!(child.status, RunStatus::Cancelled);
    engine.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_idempotency_key_creates_the_run_once() {
    let setup = Setup::sqlite().await;
    let engine = setup.engine(EngineConfig::default()).await;
    let submit = |key: &str| {
        let engine = engine.clone();
        let options = SubmitOptions {
            idempotency_key: Some(key.to_owned()),
            ..SubmitOptions::default()
        };
        async move {
            engine
                .submit_with(
                    plan(json!({"steps": [{"key": "a", "agent": "ops", "tool": "noop"}]})),
                    options,
                )
                .await
                .unwrap()
        }
    };
    // Two at once with one key (same batch), then again after it committed.
    let (first, second) = tokio::join!(submit("order-17"), submit("order-17"));
    assert!(first.created != second.created, "{first:?} {second:?}");
    assert_eq!(first.run_id, second.run_id);
    let again = submit("order-17").await;
    assert_eq!(
        (again.run_id.as_str(), again.created),
        (first.run_id.as_str(), false)
    );
    let other = submit("order-18").await;
    assert!(other.created);
    assert_ne!(other.run_id, first.run_id);
    engine.shutdown().await;
}
