//! Durability under SIGKILL: a child `switchyard` running 200 five-step runs is killed at
//! random moments 10 times and restarted on the same data. Every run must finish; the sink
//! (an HTTP server in this test that the `http` tool posts each effect to) must never see the
//! same idempotency key twice; and every run's log must replay to its stored state.

mod common;

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime};

use axum::Router;
use axum::http::HeaderMap;
use axum::routing::post;
use common::Server;
use serde_json::{Value, json};
use switchyard_db::{ConnectOptions, Database, DatabaseUrl};
use switchyard_orchestrator::runlog::{RunLog, Verification};

const RUNS: usize = 200;
const KILLS: usize = 10;

/// A tiny xorshift generator; the seed is printed so a failure can be replayed.
struct Rng(u64);

impl Rng {
    fn below(&mut self, n: u64) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0 % n
    }
}

async fn sink() -> (String, Arc<Mutex<Vec<String>>>) {
    let seen = Arc::new(Mutex::new(Vec::new()));
    let record = seen.clone();
    let app = Router::new().route(
        "/effect",
        post(move |headers: HeaderMap| {
            let record = record.clone();
            async move {
                let key = headers["idempotency-key"].to_str().unwrap().to_owned();
                record.lock().unwrap().push(key);
                axum::Json(json!({"ok": true}))
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/effect", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    (url, seen)
}

fn plan(sink: &str, jitter: u64) -> Value {
    let effect = |key: &str, deps: &[&str]| {
        json!({"key": key, "agent": "default", "tool": "http", "depends_on": deps,
               "input": {"url": sink, "method": "POST", "body": {"step": key}},
               "timeout_s": 2, "retry": {"max_attempts": 20, "initial_backoff_ms": 20, "max_backoff_ms": 200}})
    };
    json!({"steps": [
        effect("reserve", &[]),
        {"key": "think", "agent": "default", "tool": "sleep", "input": {"ms": 1000 + jitter},
         "depends_on": ["reserve"], "timeout_s": 3, "retry": {"max_attempts": 20, "initial_backoff_ms": 20}},
        effect("charge", &["think"]),
        {"key": "note", "agent": "default", "tool": "noop", "depends_on": ["charge"], "timeout_s": 2,
         "retry": {"max_attempts": 20, "initial_backoff_ms": 20}},
        effect("ship", &["note"]),
    ]})
}

fn start(dir: &std::path::Path) -> Server {
    Server::start(
        dir,
        &["--http-allow-host", "127.0.0.1", "--lease-ttl-ms", "1000"],
    )
}

async fn statuses(server: &Server, http: &reqwest::Client) -> HashMap<String, String> {
    let list: Value = http
        .get(server.url("/api/v1/runs?limit=500"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    list["runs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            (
                r["id"].as_str().unwrap().to_owned(),
                r["status"].as_str().unwrap().to_owned(),
            )
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn runs_survive_repeated_sigkill_without_recording_anything_twice() {
    let seed = SystemTime::now()
        .duration_since(SystemTime::UNIX_EPOCH)
        .unwrap()
        .as_nanos() as u64
        | 1;
    println!("crash test seed {seed}");
    let mut rng = Rng(seed);
    let dir = tempfile::tempdir().unwrap();
    let (sink_url, effects) = sink().await;
    let http = reqwest::Client::new();

    let mut server = start(dir.path());
    let mut ids = Vec::with_capacity(RUNS);
    for _ in 0..RUNS {
        let body = json!({"plan": plan(&sink_url, rng.below(1000))});
        let created: Value = http
            .post(server.url("/api/v1/runs"))
            .json(&body)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        ids.push(created["id"].as_str().unwrap().to_owned());
    }

    let mut finished_at_kill = Vec::new();
    for _ in 0..KILLS {
        tokio::time::sleep(Duration::from_millis(300 + rng.below(700))).await;
        let done = statuses(&server, &http)
            .await
            .values()
            .filter(|s| *s == "succeeded")
            .count();
        finished_at_kill.push(done);
        server.child.kill().unwrap(); // SIGKILL
        server.child.wait().unwrap();
        server = start(dir.path());
    }
    println!("runs succeeded when each kill came: {finished_at_kill:?}");
    assert!(
        finished_at_kill.first() < Some(&RUNS),
        "the first kill must land while work is in flight"
    );

    let deadline = Instant::now() + Duration::from_secs(180);
    let final_statuses = loop {
        let now = statuses(&server, &http).await;
        if now.len() == RUNS
            && now
                .values()
                .all(|s| s == "succeeded" || s == "failed" || s == "cancelled")
        {
            break now;
        }
        assert!(Instant::now() < deadline, "runs did not finish: {now:?}");
        tokio::time::sleep(Duration::from_millis(200)).await;
    };
    let (status, _) = server.terminate();
    assert!(status.success());

    let not_succeeded: Vec<_> = final_statuses
        .iter()
        .filter(|(_, s)| *s != "succeeded")
        .collect();
    assert!(
        not_succeeded.is_empty(),
        "every run finishes: {not_succeeded:?}"
    );

    let effects = effects.lock().unwrap().clone();
    let mut counts: HashMap<&str, usize> = HashMap::new();
    for key in &effects {
        *counts.entry(key.as_str()).or_default() += 1;
    }
    let twice: Vec<_> = counts.iter().filter(|(_, n)| **n > 1).collect();
    assert!(twice.is_empty(), "effects recorded twice: {twice:?}");
    let retried = effects.len() - RUNS * 3;
    println!(
        "{} effects for {} effect steps ({retried} from attempts a kill interrupted or that \
         lost their answer); no key twice",
        effects.len(),
        RUNS * 3
    );
    assert!(effects.len() >= RUNS * 3);

    let db = Database::connect(
        &DatabaseUrl::sqlite(dir.path().join("data/switchyard.db")),
        &ConnectOptions::default(),
    )
    .await
    .unwrap();
    let store = RunLog::new(db.clone());
    for id in &ids {
        assert_eq!(
            store.verify(id).await.unwrap(),
            Verification::Matches,
            "run {id}"
        );
        let state = store.state(id).await.unwrap();
        for step in ["reserve", "charge", "ship"] {
            let s = state.step(step).unwrap();
            let key = format!("{id}:{step}:{}", s.attempt);
            assert!(
                counts.contains_key(key.as_str()),
                "the recorded attempt {key} reached the sink"
            );
        }
    }
    db.close().await;
}
