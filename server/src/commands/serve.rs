//! `switchyard serve` and `switchyard migrate`.
//!
//! Start-up order is chosen so that a failure leaves nothing behind: parse config (done by the
//! caller), bind the port (nothing created yet), prepare data dir and database (undone on
//! failure), register this node, serve. Shutdown on SIGINT/SIGTERM lets in-flight requests
//! finish, stamps the node row and closes the pool.

use std::net::SocketAddr;
use std::path::Path;

use axum::serve::{ListenerExt, TapIo};
use leptos::prelude::LeptosOptions;
use switchyard_db::nodes::{self, NodeInfo};
use switchyard_service::{Service, Settings};
use tokio::net::{TcpListener, TcpStream};

use crate::config::Config;
use crate::routes::HttpLimits;
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
    let leptos_options = leptos_options(&config.site_dir, local);
    warn_if_bundle_missing(&leptos_options);
    let service =
        match Service::start(db.clone(), store, auth, service_settings(config, &node.id)).await {
            Ok(service) => service,
            Err(e) => {
                db.close().await;
                return Err(e.to_string());
            }
        };
    let app = routes::router(
        AppState {
            leptos_options,
            service: service.clone(),
        },
        &http_limits(config),
    );

    tracing::info!(
        %local,
        database = %config.database.display(),
        node = %node.id,
        "listening on http://{local}"
    );
    let served = axum::serve(
        no_delay(listener),
        app.into_make_service_with_connect_info::<std::net::SocketAddr>(),
    )
    .with_graceful_shutdown(shutdown_signal())
    .await;
    tracing::info!("shutting down");
    service.shutdown().await;
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

/// What the service runs with, from the config.
pub fn service_settings(config: &Config, node_id: &str) -> Settings {
    Settings {
        node_id: node_id.to_owned(),
        http_allow_hosts: config.http_allow_hosts.clone(),
        lease_ttl: config.lease_ttl,
        max_runs: config.max_runs,
        inference: config.inference.clone(),
        planner: config.planner.clone(),
        maintenance: Some((config.store.policy.clone(), config.store.tier_interval)),
        datasets: switchyard_service::datasets::DatasetSettings {
            staging_dir: config.data_dir.join("staging").join(node_id),
            max_upload_bytes: config.dataset_upload_limit,
        },
    }
}

/// The router's HTTP limits, from the config.
pub fn http_limits(config: &Config) -> HttpLimits {
    HttpLimits {
        body_limit: config.body_limit,
        ingest_body_limit: config.ingest_body_limit,
        cors_allow_origins: config.cors_allow_origins.clone().into(),
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

/// The listener with Nagle's algorithm off on every accepted socket. Pages stream: the
/// document head and the body leave in separate small writes, and with Nagle on the second
/// waits for the client's (delayed) ACK of the first. A fresh connection hid it (quick ACKs
/// at its start: 1.3 ms a page), a keep-alive client paid about 18 ms a page.
/// (A named type, not `impl Listener`: axum's connect info is implemented for `TapIo`.)
pub fn no_delay(listener: TcpListener) -> TapIo<TcpListener, fn(&mut TcpStream)> {
    fn set_no_delay(socket: &mut TcpStream) {
        if let Err(e) = socket.set_nodelay(true) {
            tracing::debug!(error = %e, "could not set TCP_NODELAY on a connection");
        }
    }
    listener.tap_io(set_no_delay as fn(&mut TcpStream))
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
