//! Errors as OpenAI clients expect them: `{"error": {"message", "type", "param", "code"}}`,
//! with `Retry-After` on 503s that can be retried.

use axum::Json;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use switchyard_inference::InferenceError;

use crate::api::error::ApiError;

#[derive(Debug)]
pub struct OpenAiError {
    pub status: StatusCode,
    pub message: String,
    /// `invalid_request_error`, `authentication_error`, `permission_error`, `not_found_error`,
    /// `rate_limit_error`, `server_error`.
    pub kind: &'static str,
    pub code: Option<&'static str>,
    pub param: Option<&'static str>,
    pub retry_after_s: Option<u64>,
}

#[derive(Serialize)]
pub struct Body<'a> {
    pub error: Detail<'a>,
}

#[derive(Serialize)]
pub struct Detail<'a> {
    pub message: &'a str,
    #[serde(rename = "type")]
    pub kind: &'a str,
    pub param: Option<&'a str>,
    pub code: Option<&'a str>,
}

impl OpenAiError {
    pub fn new(status: StatusCode, kind: &'static str, message: impl Into<String>) -> Self {
        Self {
            status,
            message: message.into(),
            kind,
            code: None,
            param: None,
            retry_after_s: None,
        }
    }

    pub fn invalid(param: Option<&'static str>, message: impl Into<String>) -> Self {
        Self {
            param,
            ..Self::new(StatusCode::BAD_REQUEST, "invalid_request_error", message)
        }
    }

    /// The body alone, for an error that arrives in the middle of a stream.
    pub fn body(&self) -> serde_json::Value {
        serde_json::to_value(Body {
            error: Detail {
                message: &self.message,
                kind: self.kind,
                param: self.param,
                code: self.code,
            },
        })
        .unwrap_or_default()
    }
}

impl IntoResponse for OpenAiError {
    fn into_response(self) -> Response {
        let mut response = (self.status, Json(self.body())).into_response();
        if let Some(seconds) = self.retry_after_s
            && let Ok(value) = HeaderValue::from_str(&seconds.to_string())
        {
            response.headers_mut().insert(header::RETRY_AFTER, value);
        }
        response
    }
}

impl From<InferenceError> for OpenAiError {
    fn from(e: InferenceError) -> Self {
        let message = e.to_string();
        match e {
            InferenceError::NoModel => Self {
                code: Some("no_model_configured"),
                ..Self::new(StatusCode::SERVICE_UNAVAILABLE, "server_error", message)
            },
            InferenceError::UnknownModel(_) => Self {
                code: Some("model_not_found"),
                param: Some("model"),
                ..Self::new(StatusCode::NOT_FOUND, "not_found_error", message)
            },
            InferenceError::NotReady { .. } => Self {
                code: Some("model_not_ready"),
                retry_after_s: Some(5),
                ..Self::new(StatusCode::SERVICE_UNAVAILABLE, "server_error", message)
            },
            InferenceError::QueueFull { retry_after, .. } => Self {
                code: Some("queue_full"),
                retry_after_s: Some(retry_after.as_secs().max(1)),
                ..Self::new(StatusCode::SERVICE_UNAVAILABLE, "server_error", message)
            },
            InferenceError::PromptTooLong { .. } => Self {
                code: Some("context_length_exceeded"),
                ..Self::invalid(Some("messages"), message)
            },
            InferenceError::TooManyTokens { .. } => Self {
                code: Some("max_tokens_too_large"),
                ..Self::invalid(Some("max_tokens"), message)
            },
            InferenceError::BadRequest(_) => Self::invalid(None, message),
            InferenceError::Deadline(_) => Self {
                code: Some("deadline_exceeded"),
                ..Self::new(StatusCode::GATEWAY_TIMEOUT, "server_error", message)
            },
            InferenceError::Engine(cause) => {
                tracing::error!(error = %cause, "inference failed");
                Self::new(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "server_error",
                    "internal error",
                )
            }
        }
    }
}

/// The API's own refusals (401, 403, 429, 503 switched off), reshaped.
impl From<ApiError> for OpenAiError {
    fn from(e: ApiError) -> Self {
        let kind = match e.status {
            StatusCode::UNAUTHORIZED => "authentication_error",
            StatusCode::FORBIDDEN => "permission_error",
            StatusCode::TOO_MANY_REQUESTS => "rate_limit_error",
            StatusCode::NOT_FOUND => "not_found_error",
            s if s.is_client_error() => "invalid_request_error",
            _ => "server_error",
        };
        Self {
            code: Some(e.code),
            retry_after_s: e.retry_after_s,
            ..Self::new(e.status, kind, e.message)
        }
    }
}

impl From<switchyard_service::ServiceError> for OpenAiError {
    fn from(e: switchyard_service::ServiceError) -> Self {
        ApiError::from(e).into()
    }
}

impl From<crate::api::principal::Refusal> for OpenAiError {
    fn from(refusal: crate::api::principal::Refusal) -> Self {
        let (error, retry_after_s) = refusal.into_parts();
        Self {
            retry_after_s,
            ..Self::from(error)
        }
    }
}
