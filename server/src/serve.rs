//! `switchyard serve` and `switchyard migrate`.
//!
//! Start-up order is chosen so that a failure leaves nothing behind: parse config (done by the
//! caller), bind the port (nothing created yet), prepare data dir and database (undone on
//! failure), register this node, serve. Shutdown on SIGINT/SIGTERM lets in-flight requests
//! finish, stamps the node row and closes the pool.

use std::net::SocketAddr;
use std::path::Path;

use leptos::prelude::LeptosOptions;
use std::sync::Arc;
use switchyard_app::context::ServerContext;

use switchyard_db::nodes::{self, NodeInfo};
use switchyard_inference::{Host, LlmTool, Planner};
use switchyard_orchestrator::catalog::ToolAccess;
use switchyard_orchestrator::engine::{Engine, EngineConfig, EngineError};
use switchyard_orchestrator::store::RunStore;
use switchyard_orchestrator::tools::http::HttpConfig;
use switchyard_orchestrator::tools::subrun::Subrun;
use switchyard_orchestrator::{AgentSpec, Catalog};
use switchyard_store::{Maintained, Policy, Store};
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;

use crate::config::Config;
use crate::planning::Planning;
use crate::state::AppState;
use crate::{assets, routes, startup};

/// The name cargo-leptos gives the bundle (`[[workspace.metadata.leptos]] name`).
pub const BUNDLE_NAME: &str = "switchyard";
/// Written by cargo-leptos next to the binary when `hash-files = true`.
pub const HASH_FILE: &str = "hash.txt";

pub async fn serve(config: &Config) -> Result<(), String> {
    let listener = TcpListener::bind(config.listen)
        .await
        .map_err(|e| format!("cannot listen on {}: {e}", config.listen))?;
    let local = listener
        .local_addr()
        .map_err(|e| format!("cannot read the bound address: {e}"))?;

    let (db, created) = startup::prepare(config).await?;
    let objects = match config.store.open_objects().await {
        Ok(objects) => objects,
        Err(e) => {
            db.close().await;
            created.undo();
            return Err(e);
        }
    };
    let auth = match crate::auth::prepare(config, &db).await {
        Ok(auth) => auth,
        Err(e) => {
            db.close().await;
            created.undo();
            return Err(e);
        }
    };
    let node = NodeInfo {
        id: uuid::Uuid::now_v7().to_string(),
        hostname: hostname::get()
            .map(|h| h.to_string_lossy().into_owned())
            .unwrap_or_default(),
        version: env!("CARGO_PKG_VERSION").to_owned(),
        listen: local.to_string(),
    };
    if let Err(e) = nodes::register(&db, &node).await {
        db.close().await;
        created.undo();
        return Err(format!("cannot register this server in the database: {e}"));
    }
    created.keep();

    let store = config.store.store(db.clone(), objects);
    let stop_tiering = CancellationToken::new();
    tokio::spawn(maintain_in_background(
        store.clone(),
        config.store.policy.clone(),
        config.store.tier_interval,
        stop_tiering.clone(),
    ));

    let leptos_options = leptos_options(&config.site_dir, local);
    warn_if_bundle_missing(&leptos_options);
    let runs = RunStore::new(db.clone());
    let host = match Host::start(config.inference.clone()) {
        Ok(host) => host,
        Err(e) => {
            db.close().await;
            return Err(e);
        }
    };
    tokio::spawn(record_usage(host.clone(), store.clone()));
    let (engine, planning) = match start_engine(runs.clone(), &node.id, config, &host).await {
        Ok(started) => started,
        Err(e) => {
            db.close().await;
            return Err(e);
        }
    };
    let ctx = ServerContext::new(db.clone()).with_tokens(auth.keys.clone());
    let app = routes::router(AppState {
        leptos_options,
        ctx,
        engine: engine.clone(),
        runs,
        store,
        inference: host,
        planning,
        auth,
        switches: switchyard_auth::kill::KillSwitches::new(db.clone()),
        body_limit: config.body_limit,
        ingest_body_limit: config.ingest_body_limit,
        cors_allow_origins: config.cors_allow_origins.clone().into(),
    });

    tracing::info!(
        %local,
        database = %config.database.display(),
        node = %node.id,
        "listening on http://{local}"
    );
    let served = axum::serve(
        listener,
        app.into_make_service_with_connect_info::<std::net::SocketAddr>(),
    )
    .with_graceful_shutdown(shutdown_signal())
    .await;
    tracing::info!("shutting down");
    stop_tiering.cancel();
    engine.shutdown().await;
    if let Err(e) = nodes::mark_stopped(&db, &node.id).await {
        tracing::warn!(error = %e, "could not record the shutdown");
    }
    db.close().await;
    served.map_err(|e| format!("server error: {e}"))?;
    tracing::info!("stopped");
    Ok(())
}

pub async fn migrate_only(config: &Config) -> Result<(), String> {
    let (db, created) = startup::prepare(config).await?;
    created.keep();
    let applied = switchyard_db::migrate::known(&db).len();
    println!(
        "{}: schema up to date ({applied} migrations)",
        config.database.display()
    );
    db.close().await;
    Ok(())
}

/// The built-in tools, the `llm` tool on `host`, and one agent, `default`, that may use them
/// all; and the planner over the same catalog. Configured agents (departments with their own
/// tools and limits) come later.
pub async fn start_engine(
    runs: RunStore,
    node_id: &str,
    config: &Config,
    host: &Host,
) -> Result<(Engine, Planning), String> {
    let http = HttpConfig {
        allowed_hosts: (!config.http_allow_hosts.is_empty())
            .then(|| config.http_allow_hosts.clone()),
        ..HttpConfig::default()
    };
    let subrun = Subrun::default();
    let switches = switchyard_auth::kill::KillSwitches::new(runs.database().clone());
    let mut tools = switchyard_orchestrator::tools::builtins(http, &subrun);
    tools.push(Arc::new(LlmTool::new(host.clone())));
    let tools = crate::gate::gate(tools, &switches);
    let catalog = || {
        Catalog::new(
            tools.iter().map(|t| t.spec()),
            [AgentSpec::new("default", ToolAccess::Any)],
        )
        .expect("the built-in tools form a valid catalog")
    };
    let planner_catalog = catalog();
    if let Some(unknown) = config
        .planner
        .tools
        .iter()
        .find(|t| planner_catalog.tool(t).is_none())
    {
        return Err(format!(
            "invalid planner_tools '{unknown}': not a tool (tools: {})",
            planner_catalog.tool_names().join(", ")
        ));
    }
    let engine_config = EngineConfig {
        worker_id: node_id.to_owned(),
        lease_ttl: config.lease_ttl,
        max_runs: config.max_runs,
        ..EngineConfig::default()
    };
    let planning = Planning {
        planner: Planner::new(host.clone(), config.planner.clone()),
        catalog: Arc::new(planner_catalog),
        limits: engine_config.plan_limits,
    };
    let engine = Engine::start(runs, catalog(), tools, engine_config)
        .await
        .map_err(|e: EngineError| format!("cannot start the orchestrator: {e}"))?;
    subrun.bind(engine.clone());
    Ok((engine, planning))
}

/// Every finished inference request's figures, as time series in the store:
/// `inference/MODEL/{ttft_ms, decode_tok_s, prompt_tok_s, queue_wait_ms, completion_tokens}`.
async fn record_usage(host: Host, store: Store) {
    let mut usage = host.subscribe_usage();
    loop {
        let u = match usage.recv().await {
            Ok(u) => u,
            Err(tokio::sync::broadcast::error::RecvError::Lagged(missed)) => {
                tracing::warn!(missed, "usage figures dropped: the store fell behind");
                continue;
            }
            Err(tokio::sync::broadcast::error::RecvError::Closed) => return,
        };
        let at_ms = chrono::Utc::now().timestamp_millis();
        let figures = [
            ("ttft_ms", u.ttft_ms),
            ("decode_tok_s", u.decode_tok_s),
            ("prompt_tok_s", u.prompt_tok_s),
            ("queue_wait_ms", u.queue_wait_ms),
            ("completion_tokens", u.completion_tokens as f64),
        ];
        for (name, value) in figures {
            let series = format!("inference/{}/{name}", u.model);
            let point = switchyard_store::series::Point { at_ms, value };
            if let Err(e) = store.append(&series, &[point]).await {
                tracing::warn!(error = %e, %series, "could not record an inference figure");
            }
        }
    }
}

/// Leptos' view of the site: where the bundle lives and whether its names are hashed.
pub fn leptos_options(site_dir: &Path, addr: SocketAddr) -> LeptosOptions {
    LeptosOptions::builder()
        .output_name(BUNDLE_NAME)
        .site_root(site_dir.to_string_lossy().as_ref())
        .site_addr(addr)
        .hash_file(HASH_FILE.into())
        .hash_files(assets::hashed_bundle(HASH_FILE))
        .build()
}

fn warn_if_bundle_missing(options: &LeptosOptions) {
    let pkg = Path::new(options.site_root.as_ref()).join(options.site_pkg_dir.as_ref());
    let has_bundle = std::fs::read_dir(&pkg).is_ok_and(|entries| {
        entries
            .flatten()
            .any(|e| e.file_name().to_string_lossy().ends_with(".wasm"))
    });
    if !has_bundle {
        tracing::warn!(
            site_dir = %options.site_root,
            "no WASM bundle under {}: pages render but will not become interactive; \
             build it with `cargo leptos build --release` or set --site-dir",
            pkg.display()
        );
    }
}

/// Every `interval`: probes the object store (so health notices an outage even while
/// nothing reads), then runs the store's policy once: retention deletes, moves by age and by
/// size, removal of emptied objects. A failure (object storage unreachable, say) is logged
/// and shows in health; the pass is tried again next time, and the data stays where it is,
/// readable, with nothing lost.
async fn maintain_in_background(
    store: Store,
    policy: Policy,
    interval: std::time::Duration,
    stop: CancellationToken,
) {
    loop {
        tokio::select! {
            () = stop.cancelled() => return,
            () = tokio::time::sleep(interval) => {}
        }
        if let Err(e) = store.probe_objects().await {
            tracing::warn!(error = %e, "object store probe failed; tiering waits");
            continue;
        }
        match store.maintain(&policy).await {
            Ok(done) => {
                if done != Maintained::default() {
                    tracing::info!(
                        tiered = done.tiered.records,
                        archived = done.archived.records,
                        expired_l2 = done.expired[0],
                        expired_l3 = done.expired[1],
                        expired_l4 = done.expired[2],
                        objects_removed = done.objects_removed,
                        "store maintenance"
                    );
                }
            }
            Err(e) => tracing::warn!(error = %e, "store maintenance failed; will retry"),
        }
    }
}

/// Resolves on Ctrl-C or SIGTERM.
async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = terminate => {},
    }
}
