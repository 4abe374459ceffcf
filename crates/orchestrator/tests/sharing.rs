//! Several engines on one real PostgreSQL database: they share the runs (claims with
//! `SKIP LOCKED`), hear each other through `LISTEN/NOTIFY`, and hand runs over when one stops.
//! (Separate processes, killed with SIGKILL, are the server's `two_processes` test.)

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use serde_json::json;
use switchyard_db::testing::TempPostgres;
use switchyard_db::{ConnectOptions, Database, DatabaseUrl, migrate};
use switchyard_orchestrator::catalog::ToolAccess;
use switchyard_orchestrator::engine::{Engine, EngineConfig, RunCommand};
use switchyard_orchestrator::leases::lease_history;
use switchyard_orchestrator::runlog::{RunLog, Verification};
use switchyard_orchestrator::tools::Tool;
use switchyard_orchestrator::tools::builtin::{Approval, Noop, Sleep};
use switchyard_orchestrator::{AgentSpec, Catalog, EventKind, Plan, RunStatus};

struct Shared {
    pg: Option<TempPostgres>,
    db: Database,
}

impl Shared {
    async fn new() -> Self {
        let pg = TempPostgres::create().await;
        let db = Database::connect(
            &DatabaseUrl::parse(&pg.url).unwrap(),
            &ConnectOptions {
                max_connections: 8,
                ..ConnectOptions::default()
            },
        )
        .await
        .unwrap();
        migrate::run(&db).await.unwrap();
        Self { pg: Some(pg), db }
    }

    fn store(&self) -> RunLog {
        RunLog::new(self.db.clone())
    }

    async fn engine(&self, name: &str, max_runs: usize) -> Engine {
        let tools: Vec<Arc<dyn Tool>> = vec![Arc::new(Noop), Arc::new(Sleep), Arc::new(Approval)];
        let catalog = Catalog::new(
            tools.iter().map(|t| t.spec()),
            [AgentSpec::new("ops", ToolAccess::Any)],
        )
        .unwrap();
        let config = EngineConfig {
            worker_id: name.to_owned(),
            max_runs,
            claim_batch: 8,
            lease_ttl: Duration::from_millis(900),
            ..EngineConfig::default()
        };
        Engine::start(self.store(), catalog, tools, config)
            .await
            .unwrap()
    }

    async fn finish(mut self) {
        self.db.close().await;
        self.pg.take().unwrap().drop_database().await;
    }
}

fn plan(value: serde_json::Value) -> Plan {
    serde_json::from_value(value).unwrap()
}

fn chain(steps: usize, ms: u64) -> Plan {
    plan(json!({"steps": (0..steps).map(|i| {
        let deps: Vec<String> = if i == 0 { vec![] } else { vec![format!("s{}", i - 1)] };
        json!({"key": format!("s{i}"), "agent": "ops", "tool": "sleep", "input": {"ms": ms},
               "depends_on": deps})
    }).collect::<Vec<_>>()}))
}

/// Waits until every run has ended (through the store: neither engine is asked).
async fn wait_all_final(store: &RunLog, ids: &[String], within: Duration) {
    let deadline = tokio::time::Instant::now() + within;
    loop {
        let mut open = 0;
        for id in ids {
            if !store.state(id).await.unwrap().status.is_final() {
                open += 1;
            }
        }
        if open == 0 {
            return;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "{open} of {} runs still open after {within:?}",
            ids.len()
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Checks every run: succeeded, each step succeeded exactly once, no overlapping leases, and
/// the log replays to the stored state. Returns how many leases each worker held.
async fn audit(store: &RunLog, ids: &[String], steps: usize) -> HashMap<String, usize> {
    let mut by_worker = HashMap::new();
    for id in ids {
        let state = store.state(id).await.unwrap();
        let log = store.events(id, 0).await.unwrap();
        assert_eq!(
            state.status,
            RunStatus::Succeeded,
            "run {id}: {:?}",
            state.reason
        );
        let succeeded = log
            .iter()
            .filter(|e| matches!(e.kind, EventKind::StepSucceeded { .. }))
            .count();
        assert_eq!(succeeded, steps, "run {id}: every step recorded once");
        for lease in lease_history(&log).unwrap_or_else(|e| panic!("run {id}: {e}")) {
            *by_worker.entry(lease.worker).or_insert(0) += 1;
        }
        assert_eq!(store.verify(id).await.unwrap(), Verification::Matches);
    }
    by_worker
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_engines_share_a_thousand_steps_without_leasing_one_twice() {
    let shared = Shared::new().await;
    let store = shared.store();
    let a = shared.engine("engine-a", 20).await;
    let b = shared.engine("engine-b", 20).await;
    // All 200 runs go in through `a`, which can hold 20: the rest are recorded unowned and
    // claimed by whichever engine has room.
    let submissions: Vec<_> = (0..200)
        .map(|_| {
            let a = a.clone();
            tokio::spawn(async move { a.submit(chain(5, 20), 0).await.unwrap() })
        })
        .collect();
    let mut ids = Vec::new();
    for submission in submissions {
        ids.push(submission.await.unwrap());
    }
    wait_all_final(&store, &ids, Duration::from_secs(120)).await;
    let by_worker = audit(&store, &ids, 5).await;
    println!("leases by worker: {by_worker:?}");
    assert_eq!(by_worker.values().sum::<usize>(), 1_000);
    assert!(
        by_worker.get("engine-b").copied().unwrap_or(0) > 0,
        "b took part: {by_worker:?}"
    );
    assert!(
        by_worker.get("engine-a").copied().unwrap_or(0) > 0,
        "a took part: {by_worker:?}"
    );
    a.shutdown().await;
    b.shutdown().await;
    shared.finish().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_command_and_events_cross_between_engines() {
    let shared = Shared::new().await;
    let store = shared.store();
    let a = shared.engine("engine-a", 100).await;
    let b = shared.engine("engine-b", 100).await;
    let mut seen_by_b = b.subscribe();
    let id = a
        .submit(
            plan(json!({"steps": [
                {"key": "gate", "agent": "ops", "tool": "approval"},
                {"key": "after", "agent": "ops", "tool": "noop", "depends_on": ["gate"]}
            ]})),
            0,
        )
        .await
        .unwrap();
    let owners = store.owners().await.unwrap();
    assert_eq!(owners, [(id.clone(), Some("engine-a".to_owned()))]);
    // Wait for the gate, then approve through the engine that does not own the run.
    for _ in 0..200 {
        if b.state(&id).await.unwrap().status == RunStatus::AwaitingApproval {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let approve = RunCommand::Approve {
        step: "gate".into(),
        by: "ops-lead".into(),
        rationale: "checked".into(),
    };
    b.command(&id, approve).await.unwrap();
    wait_all_final(&store, std::slice::from_ref(&id), Duration::from_secs(20)).await;
    // `a` heard of the approval and finished the run; `b`'s subscribers saw all of it, in order.
    let state = store.state(&id).await.unwrap();
    assert_eq!(state.status, RunStatus::Succeeded);
    let mut seqs = Vec::new();
    while seqs.last() != Some(&state.last_seq) {
        let (run_id, event) = tokio::time::timeout(Duration::from_secs(5), seen_by_b.recv())
            .await
            .expect("b republishes a's events")
            .unwrap();
        if run_id == id {
            seqs.push(event.seq);
        }
    }
    assert_eq!(seqs, (1..=state.last_seq).collect::<Vec<_>>());
    a.shutdown().await;
    b.shutdown().await;
    shared.finish().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stopping_engine_hands_its_runs_over_at_once() {
    let shared = Shared::new().await;
    let store = shared.store();
    let a = shared.engine("engine-a", 100).await;
    let mut ids = Vec::new();
    for _ in 0..10 {
        ids.push(a.submit(chain(3, 400), 0).await.unwrap());
    }
    tokio::time::sleep(Duration::from_millis(200)).await;
    let b = shared.engine("engine-b", 100).await;
    // `b` started after the runs were claimed: it has nothing until `a` stops.
    assert!(
        store
            .owners()
            .await
            .unwrap()
            .iter()
            .all(|(_, o)| o.as_deref() == Some("engine-a"))
    );
    a.shutdown().await;
    wait_all_final(&store, &ids, Duration::from_secs(30)).await;
    let by_worker = audit(&store, &ids, 3).await;
    assert!(by_worker["engine-b"] >= 20, "{by_worker:?}");
    b.shutdown().await;
    shared.finish().await;
}
