//! Two `switchyard` processes on one real PostgreSQL database share 1,000 steps (200 runs of
//! five), and one of them is SIGKILLed half-way and started again. No step may be leased by
//! two workers at once, none may be lost or recorded twice, and every log must replay to its
//! stored state. Needs PostgreSQL (it fails, not skips, without it).

mod common;

use std::collections::{HashMap, HashSet};
use std::time::{Duration, Instant};

use common::Server;
use serde_json::{Value, json};
use switchyard_db::testing::TempPostgres;
use switchyard_db::{ConnectOptions, Database, DatabaseUrl};
use switchyard_orchestrator::leases::lease_history;
use switchyard_orchestrator::runlog::{RunLog, Verification};
use switchyard_orchestrator::{EventKind, RunStatus};

const RUNS: usize = 200;
const STEPS: usize = 5;

fn plan() -> Value {
    json!({"steps": (0..STEPS).map(|i| {
        let deps: Vec<String> = if i == 0 { vec![] } else { vec![format!("s{}", i - 1)] };
        json!({"key": format!("s{i}"), "agent": "default", "tool": "sleep",
               "input": {"ms": 150}, "depends_on": deps})
    }).collect::<Vec<_>>()})
}

fn start(dir: &std::path::Path, url: &str) -> Server {
    Server::start(
        dir,
        &[
            "--database-url",
            url,
            "--max-runs",
            "25",
            "--lease-ttl-ms",
            "1000",
        ],
    )
}

/// Submits `count` runs at once.
async fn submit(http: &reqwest::Client, server: &Server, count: usize) -> Vec<String> {
    let requests: Vec<_> = (0..count)
        .map(|_| {
            let request = http
                .post(server.url("/api/v1/runs"))
                .json(&json!({"plan": plan()}));
            tokio::spawn(async move {
                let response = request.send().await.unwrap();
                assert_eq!(response.status(), 201);
                let created: Value = response.json().await.unwrap();
                created["id"].as_str().unwrap().to_owned()
            })
        })
        .collect();
    let mut ids = Vec::with_capacity(count);
    for request in requests {
        ids.push(request.await.unwrap());
    }
    ids
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_processes_share_a_thousand_steps_and_survive_a_sigkill() {
    let pg = TempPostgres::create().await;
    let (dir_a, dir_b) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let a = start(dir_a.path(), &pg.url);
    let mut b = start(dir_b.path(), &pg.url);
    let http = reqwest::Client::new();

    let (ids_a, ids_b) = tokio::join!(submit(&http, &a, RUNS / 2), submit(&http, &b, RUNS / 2));
    let ids: Vec<String> = ids_a.into_iter().chain(ids_b).collect();

    let db = Database::connect(
        &DatabaseUrl::parse(&pg.url).unwrap(),
        &ConnectOptions::default(),
    )
    .await
    .unwrap();
    let store = RunLog::new(db.clone());

    // Kill b while it holds runs with attempts in flight, then start it again.
    tokio::time::sleep(Duration::from_millis(700)).await;
    let mut owned: HashMap<String, usize> = HashMap::new();
    for (_, owner) in store.owners().await.unwrap() {
        *owned
            .entry(owner.unwrap_or_else(|| "nobody".into()))
            .or_default() += 1;
    }
    println!("unfinished runs by owner before the kill: {owned:?}");
    assert!(
        owned.len() >= 2,
        "the kill must land while both work: {owned:?}"
    );
    b.child.kill().unwrap(); // SIGKILL
    b.child.wait().unwrap();
    let b = start(dir_b.path(), &pg.url);

    let deadline = Instant::now() + Duration::from_secs(120);
    loop {
        let mut open = 0;
        for id in &ids {
            if !store.state(id).await.unwrap().status.is_final() {
                open += 1;
            }
        }
        if open == 0 {
            break;
        }
        assert!(Instant::now() < deadline, "{open} runs still open");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }

    let mut leases_by_worker: HashMap<String, usize> = HashMap::new();
    let mut taken_over = 0;
    for id in &ids {
        let state = store.state(id).await.unwrap();
        assert_eq!(
            state.status,
            RunStatus::Succeeded,
            "run {id}: {:?}",
            state.reason
        );
        let log = store.events(id, 0).await.unwrap();
        let succeeded = log
            .iter()
            .filter(|e| matches!(e.kind, EventKind::StepSucceeded { .. }))
            .count();
        assert_eq!(
            succeeded, STEPS,
            "run {id}: each step recorded exactly once"
        );
        let history = lease_history(&log).unwrap_or_else(|e| panic!("run {id}: {e}"));
        let workers: HashSet<&str> = history.iter().map(|l| l.worker.as_str()).collect();
        if workers.len() > 1 {
            taken_over += 1;
        }
        for lease in &history {
            *leases_by_worker.entry(lease.worker.clone()).or_default() += 1;
        }
        assert_eq!(store.verify(id).await.unwrap(), Verification::Matches);
    }
    println!(
        "{} steps; leases by worker: {leases_by_worker:?}; {taken_over} runs changed hands",
        RUNS * STEPS
    );
    assert!(
        leases_by_worker.len() >= 3,
        "a, the killed b and the restarted b all worked: {leases_by_worker:?}"
    );
    assert!(
        taken_over > 0,
        "some runs moved from the killed process to another"
    );
    let (status_a, _) = a.terminate();
    let (status_b, _) = b.terminate();
    assert!(status_a.success() && status_b.success());
    db.close().await;
    pg.drop_database().await;
}
