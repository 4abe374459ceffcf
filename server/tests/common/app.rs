//! The application router over a real SQLite file, with a live engine, for in-process
//! requests (`tower::ServiceExt::oneshot`).

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::{Arc, LazyLock};

use axum::Router;
use axum::body::Body;
use axum::http::{HeaderMap, Request, StatusCode, header};
use leptos::prelude::LeptosOptions;
use switchyard_db::{ConnectOptions, Database, DatabaseUrl, migrate};
use switchyard_orchestrator::engine::Engine;
use switchyard_server::routes::{HttpLimits, router};
use switchyard_server::state::AppState;
use switchyard_service::{Access, Service};
use tower::ServiceExt;

/// One harness at a time per test process. Each `#[tokio::test]` has its own runtime, and
/// with several of them rendering pages at once, a server-side Leptos resource occasionally
/// never completes (seen: 4 hangs in 150 parallel runs of `tests/router.rs`, 0 in 150 serial
/// runs). The server runs one runtime, and the end-to-end suite, which renders the same pages
/// through the real binary, has not shown it; so the tests serialise rather than hide it.
static ONE_AT_A_TIME: LazyLock<Arc<tokio::sync::Mutex<()>>> =
    LazyLock::new(|| Arc::new(tokio::sync::Mutex::new(())));

pub struct Harness {
    _dir: tempfile::TempDir,
    pub db: Database,
    pub site: PathBuf,
    /// The service the binary starts, started the same way.
    pub service: Service,
    pub engine: Engine,
    pub store: switchyard_store::Store,
    pub host: switchyard_inference::Host,
    /// The access rules the next [`Harness::app`] answers under (tests turn sign-in on).
    pub auth: Access,
    /// Origins allowed by CORS in the router this harness builds.
    pub cors_allow_origins: Vec<String>,
    /// Declared last so it is released after everything else is dropped.
    _turn: tokio::sync::OwnedMutexGuard<()>,
}

impl Harness {
    /// A migrated database, the server's engine, and a site dir holding a fake (but
    /// compressible) bundle.
    pub async fn new() -> Self {
        Self::with_file(Default::default()).await
    }

    /// [`Self::new`] with config-file settings (models, planner, limits), its models loaded.
    pub async fn with_file(file: switchyard_server::config::FileConfig) -> Self {
        Self::start(file, false).await
    }

    /// [`Self::with_file`] with the tiny test model as `tiny` (written into `dir`), and the
    /// settings `edit` makes (limits, planner tools).
    pub async fn with_model(
        dir: &std::path::Path,
        edit: impl FnOnce(&mut switchyard_server::config::FileConfig),
    ) -> Self {
        use switchyard_inference::test_model::{ModelShape, write_gguf};
        let path = dir.join("tiny.gguf");
        write_gguf(&path, &ModelShape::tiny(), 7).unwrap();
        let mut file = switchyard_server::config::FileConfig {
            models: Some(vec![switchyard_server::config::inference::FileModel {
                id: Some("tiny".into()),
                path,
                isq: None,
                dtype: Default::default(),
            }]),
            ..Default::default()
        };
        edit(&mut file);
        Self::with_file(file).await
    }

    /// [`Self::new`] with sign-in required from the start, as the binary runs by default (the
    /// service's own background work, such as notifications, sees it).
    pub async fn signed_in() -> Self {
        Self::start(Default::default(), true).await
    }

    async fn start(file: switchyard_server::config::FileConfig, required: bool) -> Self {
        let turn = ONE_AT_A_TIME.clone().lock_owned().await;
        let dir = tempfile::tempdir().unwrap();
        let db = Database::connect(
            &DatabaseUrl::sqlite(dir.path().join("t.db")),
            &ConnectOptions::default(),
        )
        .await
        .unwrap();
        migrate::run(&db).await.unwrap();
        let site = dir.path().join("site");
        std::fs::create_dir_all(site.join("pkg")).unwrap();
        std::fs::write(
            site.join("pkg/switchyard.abc123.wasm"),
            "wasm ".repeat(4_000),
        )
        .unwrap();
        std::fs::write(site.join("robots.txt"), "User-agent: *\n").unwrap();
        let config = switchyard_server::config::resolve(
            &Default::default(),
            &Default::default(),
            file,
            None,
        )
        .unwrap();
        let store = switchyard_store::Store::new(
            db.clone(),
            switchyard_store::Objects::local(&dir.path().join("objects")).unwrap(),
            &switchyard_store::StoreConfig::default(),
        );
        let auth = Access {
            db: db.clone(),
            keys: switchyard_auth::TokenKeys::new(&[7u8; 32]).unwrap(),
            required,
            limiter: Default::default(),
            user_limits: switchyard_auth::api_keys::Limits {
                rate_per_min: 100_000,
                max_concurrency: 64,
            },
        };
        let mut settings = switchyard_service::Settings {
            maintenance: None,
            ..switchyard_server::commands::serve::service_settings(&config, "test")
        };
        // Each harness stages uploads in its own directory (test binaries run side by side).
        settings.datasets.staging_dir = dir.path().join("staging");
        let service = Service::start(db.clone(), store.clone(), auth.clone(), settings)
            .await
            .unwrap();
        let host = service.inference().clone();
        assert!(
            host.wait_loaded(std::time::Duration::from_secs(120)).await,
            "models loaded"
        );
        let engine = service.engine().clone();
        Self {
            _dir: dir,
            db,
            site,
            service,
            engine,
            store,
            host,
            auth,
            cors_allow_origins: Vec::new(),
            _turn: turn,
        }
    }

    /// The router; `hashed` says whether bundle names carry content hashes.
    pub fn app(&self, hashed: bool) -> Router {
        let options = LeptosOptions::builder()
            .output_name("switchyard")
            .site_root(self.site.to_string_lossy().as_ref())
            .site_addr("127.0.0.1:0".parse::<SocketAddr>().unwrap())
            .hash_files(hashed)
            .build();
        router(
            AppState {
                leptos_options: options,
                service: self.service.clone().with_access(self.auth.clone()),
            },
            &HttpLimits {
                body_limit: switchyard_server::hardening::DEFAULT_BODY_LIMIT,
                ingest_body_limit: switchyard_server::hardening::DEFAULT_INGEST_BODY_LIMIT,
                cors_allow_origins: self.cors_allow_origins.clone().into(),
            },
        )
    }

    /// Serves [`Harness::app`] on a loopback port of its own (for real sockets); answers its
    /// address.
    pub async fn serve(&self) -> SocketAddr {
        let app = self.app(false);
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(async move {
            axum::serve(
                listener,
                app.into_make_service_with_connect_info::<SocketAddr>(),
            )
            .await
            .unwrap()
        });
        addr
    }

    /// Sends `request`; returns status, headers and body text.
    pub async fn send(&self, request: Request<Body>) -> (StatusCode, HeaderMap, String) {
        let response = self.app(false).oneshot(request).await.unwrap();
        read(response).await
    }

    /// Sends `request` and parses the JSON body (`null` when empty).
    pub async fn json(&self, request: Request<Body>) -> (StatusCode, serde_json::Value) {
        let (status, _, body) = self.send(request).await;
        let value = if body.is_empty() {
            serde_json::Value::Null
        } else {
            serde_json::from_str(&body).unwrap_or_else(|e| panic!("not JSON ({e}): {body}"))
        };
        (status, value)
    }
}

pub async fn read(response: axum::response::Response) -> (StatusCode, HeaderMap, String) {
    let status = response.status();
    let headers = response.headers().clone();
    let bytes = axum::body::to_bytes(response.into_body(), 10 << 20)
        .await
        .unwrap();
    (
        status,
        headers,
        String::from_utf8_lossy(&bytes).into_owned(),
    )
}

pub fn get(path: &str) -> Request<Body> {
    Request::get(path).body(Body::empty()).unwrap()
}

pub fn post_json(path: &str, body: &serde_json::Value) -> Request<Body> {
    Request::post(path)
        .header(header::CONTENT_TYPE, "application/json")
        .body(Body::from(body.to_string()))
        .unwrap()
}
