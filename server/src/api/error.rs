//! JSON errors for the REST API: `{"error": {"code": "...", "message": "..."}}`.

use axum::Json;
use axum::extract::OriginalUri;
use axum::http::{Method, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::Serialize;

/// An error answered to an API client. Messages name what was wrong; internal causes stay in
/// the log.
#[derive(Debug)]
pub struct ApiError {
    pub status: StatusCode,
    pub code: &'static str,
    pub message: String,
    /// Structured detail, e.g. every problem of a rejected plan.
    pub details: Option<serde_json::Value>,
}

impl ApiError {
    pub fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> Self {
        Self {
            status,
            code,
            message: message.into(),
            details: None,
        }
    }

    pub fn bad_request(message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, "invalid_input", message)
    }

    /// A 500: the client learns only that it happened; the cause goes to the log.
    pub fn internal(cause: &dyn std::fmt::Display) -> Self {
        tracing::error!(error = %cause, "internal error answering an API request");
        Self::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "internal",
            "internal error",
        )
    }
}

impl From<switchyard_orchestrator::engine::EngineError> for ApiError {
    fn from(e: switchyard_orchestrator::engine::EngineError) -> Self {
        use switchyard_orchestrator::decide::CommandError;
        use switchyard_orchestrator::engine::EngineError;
        match e {
            EngineError::InvalidPlan(problems) => Self {
                details: serde_json::to_value(&problems.0).ok(),
                ..Self::new(
                    StatusCode::UNPROCESSABLE_ENTITY,
                    "invalid_plan",
                    problems.to_string(),
                )
            },
            EngineError::UnknownRun(_) | EngineError::Refused(CommandError::UnknownStep(_)) => {
                Self::new(StatusCode::NOT_FOUND, "not_found", e.to_string())
            }
            EngineError::Refused(CommandError::Conflict(_)) => {
                Self::new(StatusCode::CONFLICT, "conflict", e.to_string())
            }
            EngineError::Stopped => Self::new(
                StatusCode::SERVICE_UNAVAILABLE,
                "unavailable",
                "the engine is stopping",
            ),
            EngineError::Store(store) => Self::internal(&store),
        }
    }
}

/// The body of every API error.
#[derive(Serialize, utoipa::ToSchema)]
pub struct ErrorBody {
    pub error: ErrorDetail,
}

/// What went wrong: a stable `code` for programs and a `message` for people.
#[derive(Serialize, utoipa::ToSchema)]
pub struct ErrorDetail {
    /// e.g. `not_found`, `invalid_input`, `invalid_plan`, `conflict`.
    pub code: String,
    pub message: String,
    /// For `invalid_plan`: every problem, each with `index`, `step`, `field` and `message`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub details: Option<serde_json::Value>,
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let body = ErrorBody {
            error: ErrorDetail {
                code: self.code.to_owned(),
                message: self.message,
                details: self.details,
            },
        };
        (self.status, Json(body)).into_response()
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
    switches.check(capability).await.map_err(|refused| {
        ApiError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "switched_off",
            refused.to_string(),
        )
    })
}
