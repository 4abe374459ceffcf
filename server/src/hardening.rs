//! HTTP hardening applied to every response and request: security headers, a body size
//! limit, and a same-origin check on every state-changing request a browser sends.
//!
//! The page's Content-Security-Policy is set by the app's shell (it carries the response's
//! nonce, see `switchyard_app::content_security_policy`); the headers here are the ones that
//! hold for every response.

use std::sync::Arc;

use axum::extract::{Request, State};
use axum::http::{HeaderValue, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use tower_http::set_header::SetResponseHeaderLayer;

use crate::api::error::ApiError;

/// The default request body limit: 1 MiB.
pub const DEFAULT_BODY_LIMIT: usize = 1024 * 1024;
/// The default body limit of `POST /api/v1/events` (4 MiB).
pub const DEFAULT_INGEST_BODY_LIMIT: usize = 4 * 1024 * 1024;

/// `X-Frame-Options: DENY`, `X-Content-Type-Options: nosniff`,
/// `Referrer-Policy: strict-origin-when-cross-origin`, `Cross-Origin-Opener-Policy:
/// same-origin`, each unless the handler set its own.
pub fn security_headers() -> [SetResponseHeaderLayer<HeaderValue>; 4] {
    [
        SetResponseHeaderLayer::if_not_present(
            header::X_FRAME_OPTIONS,
            HeaderValue::from_static("DENY"),
        ),
        SetResponseHeaderLayer::if_not_present(
            header::X_CONTENT_TYPE_OPTIONS,
            HeaderValue::from_static("nosniff"),
        ),
        SetResponseHeaderLayer::if_not_present(
            header::REFERRER_POLICY,
            HeaderValue::from_static("strict-origin-when-cross-origin"),
        ),
        SetResponseHeaderLayer::if_not_present(
            header::HeaderName::from_static("cross-origin-opener-policy"),
            HeaderValue::from_static("same-origin"),
        ),
    ]
}

/// Whether `origin` (a browser's `Origin` header) names the same host and port as `host`
/// (the request's `Host` header).
fn same_origin(origin: &str, host: &str) -> bool {
    let Some((_, rest)) = origin.split_once("://") else {
        return false;
    };
    rest.trim_end_matches('/').eq_ignore_ascii_case(host)
}

/// Refuses (403) a state-changing request or a WebSocket upgrade whose `Origin` names
/// another site (unless it is in `cors_allow_origins`): a cross-site form post or `fetch` to a
/// server function or the API, or another site's page opening the live socket. Requests without `Origin` (curl,
/// SDKs, same-origin navigations in older browsers) pass; browsers always send it on
/// cross-origin requests.
pub async fn same_origin_writes(
    State(allowed): State<Arc<[String]>>,
    request: Request,
    next: Next,
) -> Response {
    // A WebSocket upgrade is a GET that opens a channel with the caller's cookies: checked
    // like a write (browsers send `Origin` on every upgrade).
    let upgrade = request
        .headers()
        .get(header::UPGRADE)
        .is_some_and(|v| v.as_bytes().eq_ignore_ascii_case(b"websocket"));
    let safe = !upgrade
        && matches!(
            *request.method(),
            Method::GET | Method::HEAD | Method::OPTIONS
        );
    if !safe && let Some(origin) = request.headers().get(header::ORIGIN) {
        let host = request
            .headers()
            .get(header::HOST)
            .and_then(|h| h.to_str().ok())
            .unwrap_or_default();
        let permitted = origin
            .to_str()
            .is_ok_and(|o| same_origin(o, host) || allowed.iter().any(|a| a == o));
        if !permitted {
            let origin = String::from_utf8_lossy(origin.as_bytes()).into_owned();
            tracing::warn!(%origin, %host, path = %request.uri().path(), "refused a cross-origin write");
            return ApiError::new(
                StatusCode::FORBIDDEN,
                "cross_origin",
                format!("cross-origin request from {origin} refused"),
            )
            .into_response();
        }
    }
    next.run(request).await
}

/// CORS for the API: the allowed origins may call it from a browser, with credentials,
/// the usual methods and the headers the API reads. `None` when none is configured (then
/// browsers allow only same-origin calls).
pub fn cors(allowed: &[String]) -> Option<tower_http::cors::CorsLayer> {
    use tower_http::cors::{AllowOrigin, CorsLayer};
    if allowed.is_empty() {
        return None;
    }
    let origins: Vec<HeaderValue> = allowed
        .iter()
        .filter_map(|o| HeaderValue::from_str(o).ok())
        .collect();
    Some(
        CorsLayer::new()
            .allow_origin(AllowOrigin::list(origins))
            .allow_methods([Method::GET, Method::POST])
            .allow_headers([
                header::AUTHORIZATION,
                header::CONTENT_TYPE,
                header::HeaderName::from_static("idempotency-key"),
                header::HeaderName::from_static("last-event-id"),
            ])
            .allow_credentials(true)
            .max_age(std::time::Duration::from_secs(600)),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn origins_match_only_the_same_host_and_port() {
        assert!(same_origin("http://127.0.0.1:3000", "127.0.0.1:3000"));
        assert!(same_origin(
            "https://Switchyard.example",
            "switchyard.example"
        ));
        assert!(!same_origin("http://127.0.0.1:3001", "127.0.0.1:3000"));
        assert!(!same_origin("http://evil.example", "127.0.0.1:3000"));
        assert!(!same_origin("null", "127.0.0.1:3000"));
        assert!(!same_origin(
            "http://127.0.0.1:3000.evil.example",
            "127.0.0.1:3000"
        ));
    }
}
