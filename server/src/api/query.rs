//! Query strings whose errors come back in the API's error shape.

use axum::extract::{FromRequestParts, Query};
use axum::http::request::Parts;
use serde::de::DeserializeOwned;

use crate::api::error::ApiError;

/// Like `axum::extract::Query`, but a malformed query string is a JSON 400 `invalid_query`
/// that names the parameter, not axum's plain-text answer.
#[derive(Debug)]
pub struct ApiQuery<T>(pub T);

impl<S, T> FromRequestParts<S> for ApiQuery<T>
where
    S: Send + Sync,
    T: DeserializeOwned,
{
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        match Query::<T>::from_request_parts(parts, state).await {
            Ok(Query(value)) => Ok(Self(value)),
            Err(rejection) => Err(ApiError::new(
                axum::http::StatusCode::BAD_REQUEST,
                "invalid_query",
                rejection.body_text(),
            )),
        }
    }
}

/// A `seq` cursor from the query (`after`): 0 to `i64::MAX`, as the log stores it and the API
/// document says; absent is 0.
pub fn seq_cursor(after: Option<u64>) -> Result<u64, ApiError> {
    match after {
        Some(n) if n > i64::MAX as u64 => Err(ApiError::bad_request(format!(
            "after {n} is beyond the largest seq ({})",
            i64::MAX
        ))),
        other => Ok(other.unwrap_or(0)),
    }
}
