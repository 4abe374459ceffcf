//! HTTP hardening in-process: security headers on every response, a Content-Security-Policy
//! whose nonce every inline script carries, 413 for oversized bodies, and 403 for
//! cross-origin writes to server functions and the API.

mod common;

use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use common::app::{Harness, get};

fn server_fn(origin: Option<&str>) -> Request<Body> {
    let mut request = Request::post("/api/fn/system_health")
        .header(header::HOST, "127.0.0.1:3000")
        .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
        .header(header::ACCEPT, "application/json");
    if let Some(origin) = origin {
        request = request.header(header::ORIGIN, origin);
    }
    request.body(Body::empty()).unwrap()
}

#[tokio::test]
async fn pages_carry_a_nonce_csp_and_every_response_the_security_headers() {
    let h = Harness::new().await;
    let (status, headers, html) = h.send(get("/")).await;
    assert_eq!(status, StatusCode::OK);
    let csp = headers[header::CONTENT_SECURITY_POLICY].to_str().unwrap();
    for directive in [
        "default-src 'self'",
        "'wasm-unsafe-eval'",
        "frame-ancestors 'none'",
        "object-src 'none'",
    ] {
        assert!(csp.contains(directive), "{directive} missing from {csp}");
    }
    let nonce = csp
        .split("'nonce-")
        .nth(1)
        .and_then(|rest| rest.split('\'').next())
        .unwrap();
    assert!(nonce.len() >= 16, "{nonce}");
    // Every inline script carries this response's nonce; none goes without.
    let scripts = html.matches("<script").count();
    assert!(scripts >= 2, "{html}");
    assert_eq!(
        html.matches(&format!("nonce=\"{nonce}\"")).count(),
        scripts,
        "{html}"
    );
    // A new response, a new nonce.
    let (_, again, _) = h.send(get("/")).await;
    assert_ne!(
        again[header::CONTENT_SECURITY_POLICY],
        headers[header::CONTENT_SECURITY_POLICY]
    );

    for path in ["/", "/api/v1/health", "/api/v1/nope"] {
        let (_, headers, _) = h.send(get(path)).await;
        assert_eq!(headers[header::X_FRAME_OPTIONS], "DENY", "{path}");
        assert_eq!(headers[header::X_CONTENT_TYPE_OPTIONS], "nosniff", "{path}");
        assert_eq!(
            headers[header::REFERRER_POLICY],
            "strict-origin-when-cross-origin",
            "{path}"
        );
    }
}

#[tokio::test]
async fn an_oversized_body_is_413_in_the_api_error_shape() {
    let h = Harness::new().await;
    let padding = "x".repeat(2 * 1024 * 1024);
    let body = format!(r#"{{"plan": {{"steps": []}}, "padding": "{padding}"}}"#);
    let request = Request::post("/api/v1/runs")
        .header(header::CONTENT_TYPE, "application/json")
        .body(Body::from(body))
        .unwrap();
    let (status, json) = h.json(request).await;
    assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE);
    assert_eq!(json["error"]["code"], "too_large");
    // Server functions have the same limit.
    let request = Request::post("/api/fn/system_health")
        .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
        .header(header::CONTENT_LENGTH, 2 * 1024 * 1024)
        .body(Body::from(
            "a=".to_owned() + &"x".repeat(2 * 1024 * 1024 - 2),
        ))
        .unwrap();
    let (status, _, _) = h.send(request).await;
    assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE);
}

#[tokio::test]
async fn cross_origin_writes_are_refused_and_same_origin_ones_pass() {
    let h = Harness::new().await;
    let (status, _, body) = h.send(server_fn(Some("http://evil.example"))).await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{body}");
    assert!(body.contains("cross_origin"), "{body}");
    let (status, _, body) = h.send(server_fn(Some("null"))).await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{body}");
    let (status, _, body) = h.send(server_fn(Some("http://127.0.0.1:3000"))).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let (status, _, body) = h.send(server_fn(None)).await;
    assert_eq!(
        status,
        StatusCode::OK,
        "no Origin: not a browser's cross-site request: {body}"
    );
    // The REST API too.
    let request = Request::post("/api/v1/runs")
        .header(header::HOST, "127.0.0.1:3000")
        .header(header::ORIGIN, "https://evil.example")
        .header(header::CONTENT_TYPE, "application/json")
        .body(Body::from("{}"))
        .unwrap();
    let (status, json) = h.json(request).await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{json}");
}

#[tokio::test]
async fn cors_admits_only_the_configured_origins_to_the_api() {
    let mut h = Harness::new().await;
    h.cors_allow_origins = vec!["https://ops.example.com".into()];
    let preflight = |origin: &str| {
        Request::options("/api/v1/runs")
            .header(header::HOST, "127.0.0.1:3000")
            .header(header::ORIGIN, origin)
            .header(header::ACCESS_CONTROL_REQUEST_METHOD, "POST")
            .header(header::ACCESS_CONTROL_REQUEST_HEADERS, "content-type")
            .body(Body::empty())
            .unwrap()
    };
    let (_, headers, _) = h.send(preflight("https://ops.example.com")).await;
    assert_eq!(
        headers[header::ACCESS_CONTROL_ALLOW_ORIGIN],
        "https://ops.example.com"
    );
    assert_eq!(headers[header::ACCESS_CONTROL_ALLOW_CREDENTIALS], "true");
    let (_, headers, _) = h.send(preflight("https://evil.example")).await;
    assert!(headers.get(header::ACCESS_CONTROL_ALLOW_ORIGIN).is_none());

    // The allowed origin may write; another may not.
    let write = |origin: &str| {
        Request::post("/api/v1/runs")
            .header(header::HOST, "127.0.0.1:3000")
            .header(header::ORIGIN, origin)
            .header(header::CONTENT_TYPE, "application/json")
            .body(Body::from(
                r#"{"plan": {"steps": [{"key": "a", "agent": "default", "tool": "noop"}]}}"#,
            ))
            .unwrap()
    };
    let (status, headers, body) = h.send(write("https://ops.example.com")).await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    assert_eq!(
        headers[header::ACCESS_CONTROL_ALLOW_ORIGIN],
        "https://ops.example.com"
    );
    let (status, _, _) = h.send(write("https://evil.example")).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
}
