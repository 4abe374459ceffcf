//! Every route in one place, so the HTTP surface reads on one screen.
//!
//! | path | what |
//! |---|---|
//! | `GET /api/v1/health` | [`crate::api::health`]: version, uptime, database probe |
//! | `GET /api/v1/openapi.json` | [`crate::api::openapi`]: this API, described |
//! | `POST /api/v1/runs`, `GET /api/v1/runs` | [`crate::api::runs`]: submit a plan, list runs |
//! | `GET /api/v1/runs/{id}`, `…/events`, `…/planning` | a run's state, its event log, how its goal was planned |
//! | `GET /api/v1/runs/{id}/stream` | [`crate::api::stream`]: the log, then live events (SSE) |
//! | `POST /api/v1/runs/{id}/cancel`, `…/pause`, `…/resume` | steer a run |
//! | `POST /api/v1/runs/{id}/steps/{step}/approve`, `…/reject` | decide a risky step |
//! | `GET /api/v1/approvals` | steps waiting for a person |
//! | `GET /api/v1/live` | [`crate::api::live`]: live events of many runs over one WebSocket |
//! | `POST /api/v1/events`, `GET /api/v1/events` | [`crate::api::ingest`]: agents' logs and metrics |
//! | `POST /api/v1/auth/login`, `…/refresh`, `…/logout`, `…/password`, `…/ws-ticket`, `GET …/me` | [`crate::api::auth`] |
//! | `/api/v1/admin/users`, `…/projects`, `…/keys`, `…/switches`, `…/audit` | [`crate::api::admin`] |
//! | `/api/v1/*` (anything else) | JSON 404 |
//! | `POST /v1/chat/completions`, `GET /v1/models` | [`crate::openai`]: the OpenAI-compatible API |
//! | `POST /api/fn/*` | Leptos server functions |
//! | `GET /login`, `POST /login`, `POST /logout`, `GET /setup`, `POST /setup` | sign-in, and the first-run setup ([`crate::session`]) |
//! | `GET /pkg/*` | the WASM/JS/CSS bundle ([`crate::assets`]) |
//! | `GET /*` | pages (server-rendered), public files, the 404 page |

use axum::Router;
use axum::routing::{get, post};
use leptos::prelude::provide_context;
use leptos_axum::{LeptosRoutes, generate_route_list};
use switchyard_app::{App, shell_document};

use crate::state::AppState;
use crate::{api, assets, hardening, openai, session};

/// Prefix of the versioned REST API.
pub const API_V1: &str = "/api/v1";
/// Relative to [`API_V1`].
pub const HEALTH: &str = "/health";
/// Relative to [`API_V1`].
pub const OPENAPI: &str = "/openapi.json";
/// Prefix of the OpenAI-compatible API.
pub const OPENAI_V1: &str = "/v1";
/// Relative to [`OPENAI_V1`].
pub const OPENAI_CHAT: &str = "/chat/completions";
/// Relative to [`OPENAI_V1`].
pub const OPENAI_MODELS: &str = "/models";

/// What the router is built with besides the state: the HTTP limits from the config.
#[derive(Debug, Clone)]
pub struct HttpLimits {
    /// The largest request body accepted, in bytes (413 beyond).
    pub body_limit: usize,
    /// The largest body `POST /api/v1/events` accepts.
    pub ingest_body_limit: usize,
    /// Other sites allowed to call the API from a browser.
    pub cors_allow_origins: std::sync::Arc<[String]>,
}

/// The whole application router.
pub fn router(state: AppState, http: &HttpLimits) -> Router {
    let api_v1 = Router::new()
        .route(HEALTH, get(api::health::health))
        .route(OPENAPI, get(api::openapi::document))
        .route("/runs", post(api::runs::submit).get(api::runs::list))
        .route("/runs/{id}", get(api::runs::get))
        .route("/runs/{id}/events", get(api::runs::events))
        .route("/runs/{id}/planning", get(api::runs::planning_record))
        .route("/runs/{id}/stream", get(api::stream::stream))
        .route("/runs/{id}/cancel", post(api::runs::cancel))
        .route("/runs/{id}/pause", post(api::runs::pause))
        .route("/runs/{id}/resume", post(api::runs::resume))
        .route("/runs/{id}/steps/{step}/approve", post(api::runs::approve))
        .route("/runs/{id}/steps/{step}/reject", post(api::runs::reject))
        .route("/approvals", get(api::runs::approvals))
        .route("/notifications", get(api::notifications::list))
        .route("/notifications/read", post(api::notifications::mark_read))
        .route(
            "/workflows",
            post(api::workflows::save).get(api::workflows::list),
        )
        .route("/workflows/{name}", get(api::workflows::get))
        .route("/workflows/{name}/runs", post(api::workflows::run))
        .route(
            "/workflows/{name}/runs/{id}/stream",
            get(api::workflows::stream),
        )
        .route("/auth/login", post(api::auth::login))
        .route("/auth/refresh", post(api::auth::refresh))
        .route("/auth/logout", post(api::auth::logout))
        .route("/auth/me", get(api::auth::me))
        .route("/auth/password", post(api::auth::change_password))
        .route("/auth/ws-ticket", post(api::auth::ws_ticket))
        .route("/live", get(api::live::live))
        .route(
            "/datasets/check",
            // Streamed through the check with its own limit (`dataset_upload_limit_bytes`).
            post(api::datasets::check).layer(axum::extract::DefaultBodyLimit::disable()),
        )
        .route(
            "/datasets/check/{upload}",
            post(api::datasets::recheck).delete(api::datasets::discard),
        )
        .route(
            "/datasets",
            post(api::datasets::write).get(api::datasets::list),
        )
        .route(
            "/datasets/{id}",
            get(api::datasets::get).delete(api::datasets::delete),
        )
        .route("/datasets/{id}/rows", get(api::datasets::rows))
        .route("/search", get(api::search::search))
        .route(
            "/events",
            post(api::ingest::ingest)
                // Batches of agent events get their own, larger limit.
                .layer(axum::extract::DefaultBodyLimit::max(http.ingest_body_limit))
                .get(api::ingest::read),
        )
        .route(
            "/admin/users",
            get(api::admin::list_users).post(api::admin::create_user),
        )
        .route("/admin/users/{id}/disable", post(api::admin::disable_user))
        .route("/admin/users/{id}/enable", post(api::admin::enable_user))
        .route(
            "/admin/users/{id}/role",
            axum::routing::put(api::admin::set_role),
        )
        .route(
            "/admin/projects",
            get(api::admin::list_projects).post(api::admin::create_project),
        )
        .route(
            "/admin/projects/{project}/members/{user}",
            axum::routing::put(api::admin::add_member).delete(api::admin::remove_member),
        )
        .route(
            "/admin/keys",
            get(api::admin::list_keys).post(api::admin::create_key),
        )
        .route(
            "/admin/keys/{id}",
            axum::routing::delete(api::admin::revoke_key),
        )
        .route("/admin/switches", get(api::admin::list_switches))
        .route(
            "/admin/switches/{capability}",
            axum::routing::put(api::admin::switch_off).delete(api::admin::switch_on),
        )
        .route("/admin/audit", get(api::admin::audit_log))
        .route("/admin/audit/verify", get(api::admin::audit_verify))
        .fallback(api::error::not_found);

    let openai_v1 = Router::new()
        .route(OPENAI_CHAT, post(openai::chat::completions))
        .route(OPENAI_MODELS, get(openai::models::list));

    let leptos_routes = generate_route_list(App);
    let service = state.service.clone();
    // Per request: the service, and the nonce the page's inline scripts and its
    // Content-Security-Policy share.
    let provide_server_context = move || {
        provide_context(service.clone());
        leptos::nonce::provide_nonce();
    };

    let pages = Router::new()
        .route("/login", post(session::login_form))
        .route("/logout", post(session::logout_form))
        .route("/setup", post(session::setup_form))
        .leptos_routes_with_context(&state, leptos_routes, provide_server_context.clone(), {
            let options = state.leptos_options.clone();
            move || shell_document(options.clone())
        })
        .fallback(leptos_axum::file_and_error_handler_with_context::<
            AppState,
            _,
        >(provide_server_context, shell_document))
        .with_state(state.clone());

    let body_limit = http.body_limit;
    let [frame, sniff, referrer, opener] = hardening::security_headers();
    Router::new()
        .nest(
            API_V1,
            api_v1
                .with_state(state.clone())
                .layer(axum::extract::DefaultBodyLimit::max(body_limit))
                .layer(tower::util::option_layer(hardening::cors(
                    &http.cors_allow_origins,
                ))),
        )
        .nest(
            OPENAI_V1,
            openai_v1
                .with_state(state.clone())
                .layer(axum::extract::DefaultBodyLimit::max(body_limit))
                .layer(tower::util::option_layer(hardening::cors(
                    &http.cors_allow_origins,
                ))),
        )
        .nest_service(
            &format!("/{}", state.leptos_options.site_pkg_dir),
            assets::bundle_service(&state.leptos_options),
        )
        .merge(
            pages
                .layer(axum::middleware::from_fn_with_state(
                    state.service.access().clone(),
                    session::guard,
                ))
                .layer(tower_http::limit::RequestBodyLimitLayer::new(body_limit)),
        )
        .layer(axum::middleware::from_fn_with_state(
            http.cors_allow_origins.clone(),
            hardening::same_origin_writes,
        ))
        .layer(frame)
        .layer(sniff)
        .layer(referrer)
        .layer(opener)
        .layer(assets::compression())
}
