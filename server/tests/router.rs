//! The router, driven in-process with `tower::ServiceExt::oneshot` over a real SQLite file.

mod common;

use std::path::Path;

use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use common::app::{Harness, get, read};
use tower::ServiceExt;

async fn harness() -> Harness {
    Harness::new().await
}

fn app(h: &Harness, hashed: bool) -> axum::Router {
    h.app(hashed)
}

async fn send(
    app: axum::Router,
    request: Request<Body>,
) -> (StatusCode, axum::http::HeaderMap, String) {
    read(app.oneshot(request).await.unwrap()).await
}

#[tokio::test]
async fn health_reports_version_uptime_and_database() {
    let h = harness().await;
    let (status, headers, body) = send(app(&h, false), get("/api/v1/health")).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(headers[header::CONTENT_TYPE], "application/json");
    let json: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!(json["status"], "ok");
    assert_eq!(json["version"], env!("CARGO_PKG_VERSION"));
    assert!(json["uptime_s"].is_u64());
    assert_eq!(
        json["database"],
        serde_json::json!({"kind": "sqlite", "ok": true})
    );
    assert_eq!(json["store"]["objects"]["ok"], true);
    assert_eq!(json["store"]["database"]["ok"], true);
    assert_eq!(json["store"]["queued_writes"], 0);
    assert_eq!(json["store"]["queue_limit"], 10_000);
}

#[tokio::test]
async fn health_is_503_and_degraded_when_the_database_is_gone() {
    let h = harness().await;
    let app = app(&h, false);
    h.db.close().await;
    let (status, _, body) = send(app, get("/api/v1/health")).await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE);
    let json: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!(json["status"], "degraded");
    assert_eq!(json["database"]["ok"], false);
}

#[tokio::test]
async fn unknown_api_paths_are_json_404s() {
    let h = harness().await;
    let (status, _, body) = send(app(&h, false), get("/api/v1/nope")).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let json: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!(json["error"]["code"], "not_found");
    assert_eq!(
        json["error"]["message"],
        "no API route for GET /api/v1/nope"
    );
}

#[tokio::test]
async fn pages_render_the_shell_and_unknown_pages_are_404_inside_it() {
    let h = harness().await;
    let (status, _, html) = send(app(&h, false), get("/runs")).await;
    assert_eq!(status, StatusCode::OK);
    for marker in [
        "id=\"sidebar\"",
        "id=\"orchestrator-panel\"",
        "<h1>Runs</h1>",
    ] {
        assert!(html.contains(marker), "{marker} missing from /runs");
    }
    let (status, _, html) = send(app(&h, false), get("/definitely/not/here")).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert!(html.contains("Page not found"));
    assert!(
        html.contains("id=\"sidebar\""),
        "the 404 page lives inside the shell"
    );
}

#[tokio::test]
async fn hashed_bundles_are_immutable_and_compressed() {
    let h = harness().await;
    let request = Request::get("/pkg/switchyard.abc123.wasm")
        .header(header::ACCEPT_ENCODING, "gzip")
        .body(Body::empty())
        .unwrap();
    let (status, headers, _) = send(app(&h, true), request).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        headers[header::CACHE_CONTROL],
        "public, max-age=31536000, immutable"
    );
    assert_eq!(headers[header::CONTENT_ENCODING], "gzip");

    // Unhashed names (a dev build) must be revalidated, or browsers would run stale code.
    let (_, headers, body) = send(app(&h, false), get("/pkg/switchyard.abc123.wasm")).await;
    assert_eq!(headers[header::CACHE_CONTROL], "no-cache");
    assert_eq!(
        body.len(),
        20_000,
        "uncompressed when the client did not ask"
    );

    let (status, _, body) = send(app(&h, true), get("/robots.txt")).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body, "User-agent: *\n");
    assert!(Path::new(&h.site).join("robots.txt").exists());
}

#[tokio::test]
async fn the_health_server_function_answers_like_the_rest_endpoint() {
    let h = harness().await;
    let request = Request::post("/api/fn/system_health")
        .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
        .header(header::ACCEPT, "application/json")
        .body(Body::empty())
        .unwrap();
    let (status, _, body) = send(app(&h, false), request).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let json: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!(json["database"]["kind"], "sqlite");
    assert_eq!(json["status"], "ok");
}

#[tokio::test]
async fn the_openapi_document_describes_the_api() {
    let h = harness().await;
    let (status, _, body) = send(app(&h, false), get("/api/v1/openapi.json")).await;
    assert_eq!(status, StatusCode::OK);
    let doc: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert!(
        doc["openapi"].as_str().unwrap().starts_with("3."),
        "{}",
        doc["openapi"]
    );
    assert_eq!(doc["info"]["title"], "Switchyard API");
    let health = &doc["paths"]["/api/v1/health"]["get"];
    assert!(health["responses"]["200"].is_object());
    assert!(health["responses"]["503"].is_object());
    assert!(doc["paths"]["/api/v1/openapi.json"]["get"].is_object());
    for (path, method) in [
        ("/api/v1/runs", "post"),
        ("/api/v1/runs", "get"),
        ("/api/v1/runs/{id}", "get"),
        ("/api/v1/runs/{id}/events", "get"),
        ("/api/v1/runs/{id}/cancel", "post"),
        ("/api/v1/runs/{id}/pause", "post"),
        ("/api/v1/runs/{id}/resume", "post"),
        ("/api/v1/runs/{id}/steps/{step}/approve", "post"),
        ("/api/v1/runs/{id}/steps/{step}/reject", "post"),
        ("/api/v1/approvals", "get"),
        ("/api/v1/runs/{id}/planning", "get"),
    ] {
        assert!(
            doc["paths"][path][method].is_object(),
            "{method} {path} is not documented"
        );
    }
    assert!(doc["paths"]["/api/v1/runs"]["post"]["responses"]["422"].is_object());
    let schemas = &doc["components"]["schemas"];
    let mut fields: Vec<_> = schemas["Health"]["properties"]
        .as_object()
        .unwrap()
        .keys()
        .cloned()
        .collect();
    fields.sort();
    assert_eq!(
        fields,
        [
            "database",
            "inference",
            "status",
            "store",
            "uptime_s",
            "version"
        ]
    );
    assert!(schemas["StoreHealth"]["properties"]["queued_writes"].is_object());
    assert!(schemas["InferenceHealth"]["properties"]["device"].is_object());
    assert!(schemas["ModelHealth"]["properties"]["progress_pct"].is_object());
    assert_eq!(
        schemas["HealthStatus"]["enum"],
        serde_json::json!(["ok", "degraded"])
    );
    assert!(schemas["ErrorBody"].is_object());
}

/// Every `(method, path)` the `/api/v1` router answers, read from the route table in
/// `server/src/routes.rs` (its `.route("/…", get(…).post(…))` calls).
fn api_routes() -> Vec<(String, String)> {
    let source = include_str!("../src/routes.rs");
    let start = source.find("let api_v1 = Router::new()").unwrap();
    let end = source[start..].find(".fallback(").unwrap() + start;
    let mut routes = Vec::new();
    for chunk in source[start..end].split(".route(").skip(1) {
        let Some(path) = chunk.trim_start().strip_prefix('"') else {
            // A constant path (HEALTH, OPENAPI), checked by name elsewhere.
            continue;
        };
        let path = &path[..path.find('"').unwrap()];
        for method in ["get", "post", "put", "delete"] {
            let called = |prefix: &str| chunk.contains(&format!("{prefix}{method}("));
            if called(" ") || called("(") || called(".") || called("routing::") || called("\n") {
                routes.push((method.to_owned(), format!("/api/v1{path}")));
            }
        }
    }
    routes
}

#[tokio::test]
async fn every_api_route_is_in_the_openapi_document() {
    let h = harness().await;
    let (_, _, body) = send(app(&h, false), get("/api/v1/openapi.json")).await;
    let doc: serde_json::Value = serde_json::from_str(&body).unwrap();
    let routes = api_routes();
    assert!(routes.len() >= 35, "read too few routes: {routes:?}");
    let missing: Vec<String> = routes
        .iter()
        .filter(|(method, path)| !doc["paths"][path][method].is_object())
        .map(|(method, path)| format!("{method} {path}"))
        .collect();
    assert!(
        missing.is_empty(),
        "not in the OpenAPI document: {missing:?}"
    );
    // The OpenAI-compatible routes, with their request and answer schemas.
    let chat = &doc["paths"]["/v1/chat/completions"]["post"];
    assert_eq!(
        chat["requestBody"]["content"]["application/json"]["schema"]["$ref"],
        "#/components/schemas/ChatCompletionRequest"
    );
    for status in ["200", "400", "401", "404", "503"] {
        assert!(chat["responses"][status].is_object(), "chat lacks {status}");
    }
    assert!(doc["paths"]["/v1/models"]["get"]["responses"]["200"].is_object());
    // The email rule, as a pattern, is the one the server applies.
    assert_eq!(
        doc["components"]["schemas"]["NewUser"]["properties"]["email"]["pattern"],
        switchyard_protocol::api::admin::EMAIL_PATTERN
    );
    assert_eq!(
        doc["components"]["schemas"]["Decision"]["properties"]["rationale"]["pattern"],
        switchyard_protocol::api::NOT_BLANK_PATTERN
    );
    // Answers are typed, not free-form objects.
    let run = &doc["paths"]["/api/v1/runs/{id}"]["get"]["responses"]["200"];
    assert_eq!(
        run["content"]["application/json"]["schema"]["$ref"],
        "#/components/schemas/RunView"
    );
    // Routes that need a caller document its refusals.
    let users = &doc["paths"]["/api/v1/admin/users"]["get"]["responses"];
    for status in ["200", "401", "403", "429"] {
        assert!(
            users[status].is_object(),
            "GET /api/v1/admin/users lacks {status}"
        );
    }
}
