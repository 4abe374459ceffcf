//! `switchyard bench orchestrator`: the engine's throughput and enqueue→start latency on
//! SQLite and PostgreSQL, beside the floor — the same number of rows pushed through a bare
//! claim-and-complete loop, one row per transaction, on the same database.
//!
//! Throughput: every run submitted at once, timed until the last one succeeds. Latency: runs
//! of one step submitted one at a time, a few milliseconds apart, on an otherwise idle engine,
//! timed from the call to `submit` to the moment the tool starts (the run durably recorded and
//! its step leased in between). Under the burst a step also waits for the thousands queued
//! ahead of it; that queueing time is throughput, not latency, and is printed apart.

use std::collections::HashMap;
use std::str::FromStr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::{Value, json};
use sqlx::{ConnectOptions as _, Connection as _};
use switchyard_db::{ConnectOptions, Database, DatabaseUrl, migrate};
use switchyard_orchestrator::catalog::ToolAccess;
use switchyard_orchestrator::engine::{Engine, EngineConfig};
use switchyard_orchestrator::runlog::RunLog;
use switchyard_orchestrator::tools::builtin::Noop;
use switchyard_orchestrator::tools::{Tool, ToolContext, ToolFuture};
use switchyard_orchestrator::{AgentSpec, Catalog, EventKind, Plan, RunStatus, ToolSpec};

use super::{millis, percentile, thousands};

/// What one backend measured.
struct Figures {
    steps_per_s: f64,
    p50: Duration,
    p99: Duration,
    /// Median wait of a step under the burst (queueing included).
    burst_p50: Duration,
    floor_per_s: f64,
}

pub async fn run(quick: bool, postgres: Option<String>) -> Result<(), String> {
    let (runs, steps, probes) = if quick { (50, 20, 50) } else { (200, 50, 300) };
    println!(
        "orchestrator benchmark{}: {runs} runs × {steps} no-op steps = {} steps per backend; \
         latency from {probes} one-step runs submitted one at a time",
        if quick { " (quick)" } else { "" },
        runs * steps
    );
    println!(
        "{:<9} {:<34} {:>10} {:>18} {:>12}",
        "backend", "what", "steps/s", "enqueue→start p50", "p99"
    );

    let dir = tempfile::tempdir().map_err(|e| format!("cannot create a scratch dir: {e}"))?;
    let sqlite = Database::connect(
        &DatabaseUrl::sqlite(dir.path().join("bench.db")),
        &ConnectOptions::default(),
    )
    .await
    .map_err(|e| e.to_string())?;
    let figures = measure(&sqlite, runs, steps, probes, 1).await?;
    print_figures("sqlite", &figures, 1);
    sqlite.close().await;

    let url = postgres.unwrap_or_else(|| "postgres://postgres@127.0.0.1:5432/test".to_owned());
    match ScratchPostgres::create(&url).await {
        Ok(scratch) => {
            let db = Database::connect(
                &DatabaseUrl::parse(&scratch.url).map_err(|e| e.to_string())?,
                &ConnectOptions {
                    max_connections: 16,
                    ..ConnectOptions::default()
                },
            )
            .await
            .map_err(|e| e.to_string())?;
            let result = measure(&db, runs, steps, probes, 4).await;
            db.close().await;
            scratch.drop_database().await;
            print_figures("postgres", &result?, 4);
        }
        Err(e) => println!("postgres  skipped: {e}"),
    }
    Ok(())
}

fn print_figures(backend: &str, f: &Figures, floor_clients: usize) {
    println!(
        "{:<9} {:<34} {:>10} {:>18} {:>12}",
        backend,
        "engine (event log on)",
        thousands(f.steps_per_s),
        millis(f.p50),
        millis(f.p99)
    );
    println!(
        "{:<9} {:<34} {:>10} {:>18} {:>12}",
        backend,
        format!("floor: bare claim+complete ×{floor_clients}"),
        thousands(f.floor_per_s),
        "–",
        "–"
    );
    println!(
        "{:<9} {:<34} {:>9.2}×   (a step's median wait inside the burst: {})",
        backend,
        "engine ÷ floor",
        f.steps_per_s / f.floor_per_s,
        millis(f.burst_p50)
    );
}

async fn measure(
    db: &Database,
    runs: usize,
    steps: usize,
    probes: usize,
    floor_clients: usize,
) -> Result<Figures, String> {
    migrate::run(db).await.map_err(|e| e.to_string())?;
    let (steps_per_s, mut waits) = throughput_pass(db, runs, steps).await?;
    waits.sort();
    let mut latencies = latency_pass(db, probes).await?;
    latencies.sort();
    let floor_per_s = floor_pass(db, runs * steps, floor_clients).await?;
    Ok(Figures {
        steps_per_s,
        p50: percentile(&latencies, 50.0),
        p99: percentile(&latencies, 99.0),
        burst_p50: percentile(&waits, 50.0),
        floor_per_s,
    })
}

/// Records when each run's step started, by run id.
#[derive(Default)]
struct Stamp(Mutex<HashMap<String, Instant>>);

impl Tool for Stamp {
    fn spec(&self) -> ToolSpec {
        ToolSpec {
            name: "stamp".into(),
            description: "Notes the moment it starts.".into(),
            input_schema: json!({"type": "object"}),
            default_risk: 0.0,
        }
    }

    fn run<'a>(&'a self, ctx: &'a ToolContext, _input: Value) -> ToolFuture<'a> {
        let at = Instant::now();
        Box::pin(async move {
            self.0
                .lock()
                .unwrap()
                .entry(ctx.run_id.clone())
                .or_insert(at);
            Ok(json!({}))
        })
    }
}

async fn start_engine(
    db: &Database,
    stamp: Arc<Stamp>,
    event_buffer: usize,
) -> Result<Engine, String> {
    let tools: Vec<Arc<dyn Tool>> = vec![Arc::new(Noop), stamp];
    let catalog = Catalog::new(
        tools.iter().map(|t| t.spec()),
        [AgentSpec::new("bench", ToolAccess::Any)],
    )
    .map_err(|e| e.to_string())?;
    let config = EngineConfig {
        global_limit: 512,
        per_run_limit: 64,
        event_buffer,
        ..EngineConfig::default()
    };
    Engine::start(RunLog::new(db.clone()), catalog, tools, config)
        .await
        .map_err(|e| e.to_string())
}

fn plan(steps: usize, tool: &str) -> Result<Plan, String> {
    serde_json::from_value(json!({
        "steps": (0..steps).map(|i| json!({"key": format!("s{i}"), "agent": "bench", "tool": tool})).collect::<Vec<_>>()
    }))
    .map_err(|e| e.to_string())
}

/// Submits every run at once and waits for all to succeed. Also returns each step's wait in
/// the burst: its lease's timestamp minus its run's creation, read back from the stored log.
async fn throughput_pass(
    db: &Database,
    runs: usize,
    steps: usize,
) -> Result<(f64, Vec<Duration>), String> {
    let store = RunLog::new(db.clone());
    let engine = start_engine(db, Arc::default(), runs * steps * 4 + 1024).await?;
    let mut events = engine.subscribe();
    let plan = plan(steps, "noop")?;

    let started = Instant::now();
    let submissions: Vec<_> = (0..runs)
        .map(|_| {
            let engine: Engine = engine.clone();
            let plan = plan.clone();
            tokio::spawn(async move { engine.submit(plan, 0).await })
        })
        .collect();
    let mut ids = Vec::with_capacity(runs);
    for submission in submissions {
        ids.push(
            submission
                .await
                .map_err(|e| e.to_string())?
                .map_err(|e| e.to_string())?,
        );
    }
    let mut finished = 0;
    while finished < runs {
        match tokio::time::timeout(Duration::from_secs(120), events.recv()).await {
            Ok(Ok((_, event))) => {
                if event.kind.ends_run() {
                    finished += 1;
                }
            }
            Ok(Err(e)) => return Err(format!("lost engine events: {e}")),
            Err(_) => return Err("runs did not finish within 120 s".into()),
        }
    }
    let elapsed = started.elapsed();
    engine.shutdown().await;

    let mut waits = Vec::with_capacity(runs * steps);
    for id in &ids {
        let state = store.state(id).await.map_err(|e| e.to_string())?;
        if state.status != RunStatus::Succeeded {
            return Err(format!("run {id} ended {}", state.status));
        }
        let log = store.events(id, 0).await.map_err(|e| e.to_string())?;
        let created = log.first().map(|e| e.at).unwrap_or_default();
        for event in &log {
            if let EventKind::StepLeased { attempt: 1, .. } = event.kind {
                waits.push((event.at - created).to_std().unwrap_or_default());
            }
        }
    }
    Ok(((runs * steps) as f64 / elapsed.as_secs_f64(), waits))
}

/// One-step runs submitted one at a time, 2 ms apart: submit call → tool start, each.
async fn latency_pass(db: &Database, probes: usize) -> Result<Vec<Duration>, String> {
    let stamp = Arc::new(Stamp::default());
    let engine = start_engine(db, stamp.clone(), 4096).await?;
    let plan = plan(1, "stamp")?;
    let mut submitted = Vec::with_capacity(probes);
    for _ in 0..probes {
        let at = Instant::now();
        let id = engine
            .submit(plan.clone(), 0)
            .await
            .map_err(|e| e.to_string())?;
        submitted.push((id, at));
        tokio::time::sleep(Duration::from_millis(2)).await;
    }
    let deadline = Instant::now() + Duration::from_secs(30);
    while stamp.0.lock().unwrap().len() < probes {
        if Instant::now() > deadline {
            return Err("probe runs did not start within 30 s".into());
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    engine.shutdown().await;
    let started = stamp.0.lock().unwrap();
    Ok(submitted
        .iter()
        .map(|(id, at)| started[id].duration_since(*at))
        .collect())
}

/// The floor: `rows` rows claimed and completed one per transaction by `clients` workers.
async fn floor_pass(db: &Database, rows: usize, clients: usize) -> Result<f64, String> {
    const CREATE: &str =
        "CREATE TABLE IF NOT EXISTS bench_floor (id BIGINT PRIMARY KEY, status TEXT NOT NULL)";
    const INDEX: &str =
        "CREATE INDEX IF NOT EXISTS bench_floor_ready ON bench_floor (id) WHERE status = 'ready'";
    let err = |e: sqlx::Error| e.to_string();
    match db {
        Database::Sqlite(pool) => {
            for sql in [CREATE, INDEX, "DELETE FROM bench_floor"] {
                sqlx::query(sql).execute(pool).await.map_err(err)?;
            }
            fill_floor_sqlite(pool, rows).await?;
            let started = Instant::now();
            // SQLite has one writer: one client, BEGIN IMMEDIATE per row.
            loop {
                let mut tx = switchyard_db::connect::sqlite_write(pool)
                    .await
                    .map_err(|e| e.to_string())?;
                let claimed: Option<i64> = sqlx::query_scalar(
                    "UPDATE bench_floor SET status = 'leased' WHERE id = \
                     (SELECT id FROM bench_floor WHERE status = 'ready' ORDER BY id LIMIT 1) RETURNING id",
                )
                .fetch_optional(&mut *tx)
                .await
                .map_err(err)?;
                let Some(id) = claimed else { break };
                sqlx::query("UPDATE bench_floor SET status = 'done' WHERE id = $1")
                    .bind(id)
                    .execute(&mut *tx)
                    .await
                    .map_err(err)?;
                tx.commit().await.map_err(err)?;
            }
            Ok(rows as f64 / started.elapsed().as_secs_f64())
        }
        Database::Postgres(pool) => {
            for sql in [CREATE, INDEX, "DELETE FROM bench_floor"] {
                sqlx::query(sql).execute(pool).await.map_err(err)?;
            }
            sqlx::query("INSERT INTO bench_floor (id, status) SELECT g, 'ready' FROM generate_series(1, $1) g")
                .bind(rows as i64)
                .execute(pool)
                .await
                .map_err(err)?;
            let started = Instant::now();
            let workers: Vec<_> = (0..clients)
                .map(|_| {
                    let pool = pool.clone();
                    tokio::spawn(async move {
                        loop {
                            let mut tx = pool.begin().await?;
                            let claimed: Option<i64> = sqlx::query_scalar(
                                "UPDATE bench_floor SET status = 'leased' WHERE id = \
                                 (SELECT id FROM bench_floor WHERE status = 'ready' ORDER BY id \
                                  LIMIT 1 FOR UPDATE SKIP LOCKED) RETURNING id",
                            )
                            .fetch_optional(&mut *tx)
                            .await?;
                            let Some(id) = claimed else {
                                return Ok::<(), sqlx::Error>(());
                            };
                            sqlx::query("UPDATE bench_floor SET status = 'done' WHERE id = $1")
                                .bind(id)
                                .execute(&mut *tx)
                                .await?;
                            tx.commit().await?;
                        }
                    })
                })
                .collect();
            for worker in workers {
                worker.await.map_err(|e| e.to_string())?.map_err(err)?;
            }
            Ok(rows as f64 / started.elapsed().as_secs_f64())
        }
    }
}

async fn fill_floor_sqlite(pool: &sqlx::SqlitePool, rows: usize) -> Result<(), String> {
    let mut tx = pool.begin().await.map_err(|e| e.to_string())?;
    for id in 1..=rows as i64 {
        sqlx::query("INSERT INTO bench_floor (id, status) VALUES ($1, 'ready')")
            .bind(id)
            .execute(&mut *tx)
            .await
            .map_err(|e| e.to_string())?;
    }
    tx.commit().await.map_err(|e| e.to_string())
}

/// A database created for the benchmark and dropped after it.
pub(super) struct ScratchPostgres {
    admin_url: String,
    name: String,
    pub(super) url: String,
}

impl ScratchPostgres {
    pub(super) async fn create(admin_url: &str) -> Result<Self, String> {
        let name = format!("switchyard_bench_{}", uuid::Uuid::now_v7().simple());
        let mut admin = sqlx::PgConnection::connect(admin_url)
            .await
            .map_err(|e| format!("cannot connect to {admin_url}: {e}"))?;
        // The name is made here from a UUID; identifiers cannot be bound.
        sqlx::query(&format!("CREATE DATABASE {name}"))
            .execute(&mut admin)
            .await
            .map_err(|e| format!("cannot create a scratch database: {e}"))?;
        let url = sqlx::postgres::PgConnectOptions::from_str(admin_url)
            .map_err(|e| e.to_string())?
            .database(&name)
            .to_url_lossy()
            .to_string();
        Ok(Self {
            admin_url: admin_url.to_owned(),
            name,
            url,
        })
    }

    pub(super) async fn drop_database(self) {
        if let Ok(mut admin) = sqlx::PgConnection::connect(&self.admin_url).await {
            let _ = sqlx::query(&format!(
                "DROP DATABASE IF EXISTS {} WITH (FORCE)",
                self.name
            ))
            .execute(&mut admin)
            .await;
        }
    }
}
