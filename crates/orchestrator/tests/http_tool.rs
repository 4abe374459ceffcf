//! The `http` tool against a real HTTP server on 127.0.0.1. Refused addresses are refused
//! before any connection is made, so no traffic leaves the machine.

use std::net::SocketAddr;
use std::time::Duration;

use axum::Router;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::IntoResponse;
use axum::routing::{get, post};
use serde_json::{Value, json};
use switchyard_orchestrator::tools::http::{Http, HttpConfig};
use switchyard_orchestrator::tools::{Tool, ToolContext, ToolError};
use tokio_util::sync::CancellationToken;

async fn serve() -> SocketAddr {
    let app = Router::new()
        .route("/json", get(|| async { axum::Json(json!({"ok": true})) }))
        .route(
            "/echo",
            post(|headers: HeaderMap, body: String| async move {
                let key = headers["idempotency-key"].to_str().unwrap().to_owned();
                axum::Json(
                    json!({"key": key, "body": serde_json::from_str::<Value>(&body).unwrap()}),
                )
            }),
        )
        .route(
            "/slow",
            get(|| async {
                tokio::time::sleep(Duration::from_secs(5)).await;
                "late"
            }),
        )
        .route("/big", get(|| async { "x".repeat(64 * 1024) }))
        .route(
            "/busy",
            get(|| async {
                (
                    StatusCode::SERVICE_UNAVAILABLE,
                    [(header::RETRY_AFTER, "7")],
                    "busy",
                )
            }),
        )
        .route(
            "/missing",
            get(|| async { StatusCode::NOT_FOUND.into_response() }),
        )
        .route(
            "/moved",
            get(|| async { (StatusCode::FOUND, [(header::LOCATION, "/json")]).into_response() }),
        )
        .route("/text", get(|| async { "plain words" }));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    addr
}

fn loopback_allowed() -> Http {
    Http::new(HttpConfig {
        allowed_hosts: Some(vec!["127.0.0.1".into()]),
        ..HttpConfig::default()
    })
}

fn ctx() -> ToolContext {
    ToolContext::new("run1", "fetch", 2, CancellationToken::new())
}

#[tokio::test]
async fn gets_json_and_text_from_an_allowlisted_host() {
    let addr = serve().await;
    let tool = loopback_allowed();
    let out = tool
        .run(&ctx(), json!({"url": format!("http://{addr}/json")}))
        .await
        .unwrap();
    assert_eq!(out["status"], 200);
    assert_eq!(out["body"], json!({"ok": true}));
    assert_eq!(out["headers"]["content-type"], "application/json");
    let text = tool
        .run(&ctx(), json!({"url": format!("http://{addr}/text")}))
        .await
        .unwrap();
    assert_eq!(text["body"], "plain words");
}

#[tokio::test]
async fn posts_carry_the_idempotency_key() {
    let addr = serve().await;
    let out = loopback_allowed()
        .run(
            &ctx(),
            json!({"url": format!("http://{addr}/echo"), "method": "POST", "body": {"n": 1}}),
        )
        .await
        .unwrap();
    assert_eq!(
        out["body"],
        json!({"key": "run1:fetch:2", "body": {"n": 1}})
    );
}

#[tokio::test]
async fn loopback_and_private_addresses_are_refused_by_default() {
    let addr = serve().await;
    let open = Http::default();
    for url in [
        format!("http://{addr}/json"),
        format!("http://localhost:{}/json", addr.port()),
        "http://10.1.2.3/".to_owned(),
        "http://169.254.169.254/latest/meta-data".to_owned(),
        "http://[::1]/".to_owned(),
    ] {
        let err = open.run(&ctx(), json!({"url": url})).await.unwrap_err();
        assert!(!err.is_retryable(), "{url}: {err}");
        assert!(err.to_string().starts_with("refused: '"), "{url}: {err}");
        assert!(
            err.to_string().contains("non-public address"),
            "{url}: {err}"
        );
    }
}

#[tokio::test]
async fn an_allowlist_admits_only_its_hosts() {
    let addr = serve().await;
    let tool = Http::new(HttpConfig {
        allowed_hosts: Some(vec!["*.example.com".into()]),
        ..HttpConfig::default()
    });
    let err = tool
        .run(&ctx(), json!({"url": format!("http://{addr}/json")}))
        .await
        .unwrap_err();
    assert_eq!(
        err,
        ToolError::permanent("host '127.0.0.1' is not on the http tool's allowlist")
    );
    let scheme = tool
        .run(&ctx(), json!({"url": "file:///etc/passwd"}))
        .await
        .unwrap_err();
    assert_eq!(
        scheme,
        ToolError::permanent("scheme 'file' is not allowed; use http or https")
    );
}

#[tokio::test]
async fn timeouts_and_busy_servers_are_retryable() {
    let addr = serve().await;
    let tool = loopback_allowed();
    let slow = tool
        .run(
            &ctx(),
            json!({"url": format!("http://{addr}/slow"), "timeout_ms": 200}),
        )
        .await
        .unwrap_err();
    assert!(slow.is_retryable());
    assert_eq!(
        slow.to_string(),
        format!("GET http://{addr}/slow timed out after 200 ms")
    );

    let busy = tool
        .run(&ctx(), json!({"url": format!("http://{addr}/busy")}))
        .await
        .unwrap_err();
    assert_eq!(
        busy,
        ToolError::Retryable {
            message: format!("GET http://{addr}/busy answered 503 Service Unavailable"),
            retry_after: Some(Duration::from_secs(7)),
        }
    );
}

#[tokio::test]
async fn client_errors_and_oversized_answers_are_permanent() {
    let addr = serve().await;
    let missing = loopback_allowed()
        .run(&ctx(), json!({"url": format!("http://{addr}/missing")}))
        .await
        .unwrap_err();
    assert_eq!(
        missing,
        ToolError::permanent(format!("GET http://{addr}/missing answered 404 Not Found"))
    );
    let capped = Http::new(HttpConfig {
        allowed_hosts: Some(vec!["127.0.0.1".into()]),
        max_response_bytes: 1024,
        ..HttpConfig::default()
    });
    let big = capped
        .run(&ctx(), json!({"url": format!("http://{addr}/big")}))
        .await
        .unwrap_err();
    assert_eq!(
        big,
        ToolError::permanent(format!(
            "GET http://{addr}/big: response body exceeds 1024 bytes"
        ))
    );
}

#[tokio::test]
async fn redirects_come_back_instead_of_being_followed() {
    let addr = serve().await;
    let out = loopback_allowed()
        .run(&ctx(), json!({"url": format!("http://{addr}/moved")}))
        .await
        .unwrap();
    assert_eq!(out["status"], 302);
    assert_eq!(out["headers"]["location"], "/json");
}

#[tokio::test]
async fn cancellation_stops_a_request_in_flight() {
    let addr = serve().await;
    let ctx = ctx();
    let cancel = ctx.cancel.clone();
    tokio::spawn(async move {
        tokio::time::sleep(Duration::from_millis(100)).await;
        cancel.cancel();
    });
    let started = std::time::Instant::now();
    let err = loopback_allowed()
        .run(&ctx, json!({"url": format!("http://{addr}/slow")}))
        .await
        .unwrap_err();
    assert_eq!(err, ToolError::Cancelled);
    assert!(
        started.elapsed() < Duration::from_secs(4),
        "stopped early, not at the server's 5 s"
    );
}
