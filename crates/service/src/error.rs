//! [`ServiceError`]: why a use case said no, in terms any front end can map once — the REST
//! API to its JSON error shape and status, server functions to their error and status.
//!
//! A message names what was wrong (the field, the rule, the setting). An internal failure
//! never carries its cause: the cause goes to the log under a fresh request id, and the caller
//! sees only that id, to quote when they report it.

use serde_json::Value;
use switchyard_orchestrator::decide::CommandError;
use switchyard_orchestrator::engine::EngineError;

/// What kind of refusal, and so which HTTP status.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorKind {
    /// 400: the input broke a rule.
    Invalid,
    /// 401: no credentials, or bad ones.
    Unauthorized,
    /// 403: known caller, missing permission.
    Forbidden,
    /// 404: no such thing, or one the caller may not see (the same answer, on purpose).
    NotFound,
    /// 409: not possible in the current state.
    Conflict,
    /// 413: a body over its limit (the message names the setting).
    TooLarge,
    /// 422: well-formed but unusable (a plan with problems, a goal with no valid plan).
    Unprocessable,
    /// 429: over a rate or concurrency limit; see `retry_after_s`.
    RateLimited,
    /// 503: switched off by an admin, the engine stopping, the model host busy.
    Unavailable,
    /// 500: our fault; the cause is in the log under the request id.
    Internal,
}

impl ErrorKind {
    /// The HTTP status this kind answers with.
    pub fn status(self) -> u16 {
        match self {
            Self::Invalid => 400,
            Self::Unauthorized => 401,
            Self::Forbidden => 403,
            Self::NotFound => 404,
            Self::Conflict => 409,
            Self::TooLarge => 413,
            Self::Unprocessable => 422,
            Self::RateLimited => 429,
            Self::Unavailable => 503,
            Self::Internal => 500,
        }
    }
}

/// A use case's refusal or failure.
#[derive(Debug, Clone, thiserror::Error)]
#[error("{message}")]
pub struct ServiceError {
    pub kind: ErrorKind,
    /// Stable, for programs: `invalid_input`, `not_found`, `invalid_plan`, `switched_off` …
    pub code: &'static str,
    /// For people: what was wrong.
    pub message: String,
    /// Structured detail, e.g. every problem of a rejected plan (boxed: errors travel in
    /// every `Result`, and most have none).
    pub details: Option<Box<Value>>,
    /// For [`ErrorKind::RateLimited`]: seconds until a retry may pass.
    pub retry_after_s: Option<u64>,
}

impl ServiceError {
    pub fn new(kind: ErrorKind, code: &'static str, message: impl Into<String>) -> Self {
        Self {
            kind,
            code,
            message: message.into(),
            details: None,
            retry_after_s: None,
        }
    }

    /// 400 `invalid_input`.
    pub fn invalid(message: impl Into<String>) -> Self {
        Self::new(ErrorKind::Invalid, "invalid_input", message)
    }

    /// 404 `not_found`.
    pub fn not_found(message: impl Into<String>) -> Self {
        Self::new(ErrorKind::NotFound, "not_found", message)
    }

    /// 409 `conflict`.
    pub fn conflict(message: impl Into<String>) -> Self {
        Self::new(ErrorKind::Conflict, "conflict", message)
    }

    /// The same error with structured `details`.
    pub fn with_details(mut self, details: Value) -> Self {
        self.details = Some(Box::new(details));
        self
    }

    /// A 500. The cause is logged with a new request id; the error carries only the id.
    pub fn internal(cause: &dyn std::fmt::Display) -> Self {
        let request_id = uuid::Uuid::now_v7().simple().to_string();
        tracing::error!(%request_id, error = %cause, "internal error");
        Self::new(
            ErrorKind::Internal,
            "internal",
            format!("internal error (request id {request_id})"),
        )
    }
}

impl From<EngineError> for ServiceError {
    fn from(e: EngineError) -> Self {
        match e {
            EngineError::InvalidPlan(problems) => {
                let details = serde_json::to_value(&problems.0).ok().map(Box::new);
                Self {
                    details,
                    ..Self::new(
                        ErrorKind::Unprocessable,
                        "invalid_plan",
                        problems.to_string(),
                    )
                }
            }
            EngineError::UnknownRun(_) | EngineError::Refused(CommandError::UnknownStep(_)) => {
                Self::not_found(e.to_string())
            }
            EngineError::Refused(CommandError::Conflict(_)) => Self::conflict(e.to_string()),
            EngineError::Stopped => Self::new(
                ErrorKind::Unavailable,
                "unavailable",
                "the engine is stopping",
            ),
            EngineError::RunLog(e) => Self::internal(&e),
        }
    }
}

impl From<switchyard_auth::admin::AdminError> for ServiceError {
    fn from(e: switchyard_auth::admin::AdminError) -> Self {
        use switchyard_auth::admin::AdminError;
        match e {
            AdminError::Invalid(m) => Self::invalid(m),
            AdminError::Exists(m) => Self::conflict(m),
            AdminError::OwnAccount(m) => Self::new(ErrorKind::Forbidden, "own_account", m),
            AdminError::NotFound(m) => Self::not_found(m),
            AdminError::Db(e) => Self::internal(&e),
        }
    }
}

/// `Ok` while `capability` is on; otherwise 503 `switched_off` with the admin's reason.
pub async fn require_on(
    switches: &switchyard_auth::kill::KillSwitches,
    capability: switchyard_auth::kill::Capability,
) -> Result<(), ServiceError> {
    switches.check(capability).await.map_err(|refused| {
        ServiceError::new(ErrorKind::Unavailable, "switched_off", refused.to_string())
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_internal_error_hides_its_cause_behind_a_request_id() {
        let e = ServiceError::internal(&"UNIQUE constraint failed: users.email");
        assert_eq!(e.kind.status(), 500);
        assert!(!e.message.contains("UNIQUE"), "{}", e.message);
        let id = e
            .message
            .strip_prefix("internal error (request id ")
            .unwrap();
        assert_eq!(id.trim_end_matches(')').len(), 32, "{}", e.message);
    }

    #[test]
    fn engine_refusals_map_to_their_statuses() {
        let unknown: ServiceError = EngineError::UnknownRun("r1".into()).into();
        assert_eq!((unknown.kind.status(), unknown.code), (404, "not_found"));
        let stopped: ServiceError = EngineError::Stopped.into();
        assert_eq!(stopped.kind.status(), 503);
        let conflict: ServiceError =
            EngineError::Refused(CommandError::Conflict("run finished".into())).into();
        assert_eq!((conflict.kind.status(), conflict.code), (409, "conflict"));
    }
}
