//! JSON errors for the REST API: `{"error": {"code": "...", "message": "..."}}`.

use axum::Json;
use axum::extract::OriginalUri;
use axum::http::{HeaderValue, Method, StatusCode, header};
use axum::response::{IntoResponse, Response};
use switchyard_service::ServiceError;

/// An error answered to an API client. Messages name what was wrong; internal causes stay in
/// the log, and the client gets a request id to quote.
#[derive(Debug)]
pub struct ApiError {
    pub status: StatusCode,
    pub code: &'static str,
    pub message: String,
    /// Structured detail, e.g. every problem of a rejected plan (boxed, as the service's).
    pub details: Option<Box<serde_json::Value>>,
    /// For a 429: the `Retry-After` seconds.
    pub retry_after_s: Option<u64>,
}

impl ApiError {
    pub fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> Self {
        Self {
            status,
            code,
            message: message.into(),
            details: None,
            retry_after_s: None,
        }
    }

    pub fn bad_request(message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, "invalid_input", message)
    }

    /// A 500: the client learns only that it happened and the request id; the cause goes to
    /// the log under that id.
    pub fn internal(cause: &dyn std::fmt::Display) -> Self {
        ServiceError::internal(cause).into()
    }
}

/// The one mapping from the service's errors to the API's.
impl From<ServiceError> for ApiError {
    fn from(e: ServiceError) -> Self {
        Self {
            status: StatusCode::from_u16(e.kind.status())
                .unwrap_or(StatusCode::INTERNAL_SERVER_ERROR),
            code: e.code,
            message: e.message,
            details: e.details,
            retry_after_s: e.retry_after_s,
        }
    }
}

impl From<switchyard_orchestrator::engine::EngineError> for ApiError {
    fn from(e: switchyard_orchestrator::engine::EngineError) -> Self {
        ServiceError::from(e).into()
    }
}

pub use switchyard_protocol::api::error::{ErrorBody, ErrorDetail};

/// The refusals any route that needs a caller may answer, for the OpenAPI document.
#[derive(utoipa::IntoResponses)]
#[allow(dead_code)] // a description for the document, never built
pub enum Refusals {
    /// No valid credentials (with `auth_required`); `WWW-Authenticate` says how to send them.
    #[response(status = 401)]
    Unauthorized(ErrorBody),
    /// The caller lacks the permission (or the API key the scope) the route needs.
    #[response(status = 403)]
    Forbidden(ErrorBody),
    /// Over the caller's rate or concurrency limit; `Retry-After` says when to try again.
    #[response(status = 429)]
    RateLimited(ErrorBody),
}

/// What a route that reads a JSON body may also answer, for the OpenAPI document.
#[derive(utoipa::IntoResponses)]
#[allow(dead_code)] // a description for the document, never built
pub enum BodyRefusals {
    /// The body is over the size limit (`http_body_limit_bytes`).
    #[response(status = 413)]
    TooLarge(ErrorBody),
    /// The body is not sent as `Content-Type: application/json`.
    #[response(status = 415)]
    NotJson(ErrorBody),
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let body = ErrorBody {
            error: ErrorDetail {
                code: self.code.to_owned(),
                message: self.message,
                details: self.details.map(|d| *d),
            },
        };
        let mut response = (self.status, Json(body)).into_response();
        if let Some(seconds) = self.retry_after_s
            && let Ok(value) = HeaderValue::from_str(&seconds.to_string())
        {
            response.headers_mut().insert(header::RETRY_AFTER, value);
        }
        response
    }
}

/// Any `/api/v1` path with no route.
pub async fn not_found(method: Method, OriginalUri(uri): OriginalUri) -> ApiError {
    ApiError::new(
        StatusCode::NOT_FOUND,
        "not_found",
        format!("no API route for {method} {}", uri.path()),
    )
}

/// `Ok` while `capability` is on; otherwise 503 `switched_off` with the admin's reason.
pub async fn require_on(
    switches: &switchyard_auth::kill::KillSwitches,
    capability: switchyard_auth::kill::Capability,
) -> Result<(), ApiError> {
    Ok(switchyard_service::error::require_on(switches, capability).await?)
}
