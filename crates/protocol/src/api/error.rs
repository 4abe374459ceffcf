//! The body of every `/api/v1` error answer.

use serde::{Deserialize, Serialize};

/// `{"error": {"code", "message", "details"?}}`.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ErrorBody {
    pub error: ErrorDetail,
}

/// What went wrong: a stable `code` for programs and a `message` for people.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ErrorDetail {
    /// e.g. `not_found`, `invalid_input`, `invalid_plan`, `conflict`.
    pub code: String,
    pub message: String,
    /// More about the error, shaped by its `code`: for `invalid_plan`, every problem (each
    /// with `index`, `step`, `field` and `message`); for `planning_failed`, `{"run_id",
    /// "planning"}`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<Value>))]
    pub details: Option<serde_json::Value>,
}
