//! The [`Principal`] of an `/api/v1` (or `/v1`) request: its credentials read from the
//! request — `Authorization: Bearer …`, the browser's access cookie, or a WebSocket upgrade's
//! `ticket` — and resolved by the service's one resolver
//! ([`switchyard_service::Access::resolve`]). A refusal is answered before the handler runs:
//! 401 with `WWW-Authenticate`, or 429 with `Retry-After`.

use axum::extract::{FromRef, FromRequestParts};
use axum::http::request::Parts;
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use switchyard_service::{Access, Credentials, ErrorKind, ServiceError};

use crate::api::error::ApiError;
use crate::auth::Peer;

pub use switchyard_service::{Identity, Principal};

/// The `ticket` query parameter of a WebSocket upgrade request.
fn ticket(parts: &Parts) -> Option<String> {
    let upgrade = parts
        .headers
        .get(header::UPGRADE)
        .is_some_and(|v| v.as_bytes().eq_ignore_ascii_case(b"websocket"));
    if !upgrade {
        return None;
    }
    url::form_urlencoded::parse(parts.uri.query()?.as_bytes())
        .find(|(name, _)| name == "ticket")
        .map(|(_, value)| value.into_owned())
}

/// What the request presents: a bearer token or API key, else the session's access cookie,
/// else (on a WebSocket upgrade) a ticket.
pub fn credentials(parts: &Parts) -> Credentials {
    let bearer = parts
        .headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .map(|v| v.trim().to_owned());
    match bearer
        .or_else(|| crate::session::read_cookie(&parts.headers, crate::session::ACCESS_COOKIE))
    {
        Some(presented) => Credentials::Bearer(presented),
        None => ticket(parts).map_or(Credentials::None, Credentials::Ticket),
    }
}

/// A refusal before the handler runs, in the API's error shape.
#[derive(Debug)]
pub struct Refusal(pub ServiceError);

impl Refusal {
    /// The error and, for a 429, the seconds to wait: for routes that answer in another
    /// shape (the OpenAI-compatible API).
    pub fn into_parts(self) -> (ApiError, Option<u64>) {
        let retry = self.0.retry_after_s;
        (self.0.into(), retry)
    }
}

impl IntoResponse for Refusal {
    fn into_response(self) -> Response {
        let unauthorized = self.0.kind == ErrorKind::Unauthorized;
        let mut response = ApiError::from(self.0).into_response();
        if unauthorized {
            response.headers_mut().insert(
                header::WWW_AUTHENTICATE,
                HeaderValue::from_static("Bearer realm=\"switchyard\""),
            );
        }
        response
    }
}

/// The path as the client sent it (a nested router sees it without its prefix).
pub fn request_line(parts: &Parts) -> String {
    format!(
        "{} {}",
        parts.method,
        parts
            .extensions
            .get::<axum::extract::OriginalUri>()
            .map_or_else(|| parts.uri.path(), |original| original.0.path())
    )
}

/// Extracts the caller; see the module doc.
pub struct Caller(pub Principal);

impl<S> FromRequestParts<S> for Caller
where
    S: Send + Sync,
    Access: FromRef<S>,
{
    type Rejection = Refusal;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let access = Access::from_ref(state);
        access
            .resolve(credentials(parts), Peer::of(parts), request_line(parts))
            .await
            .map(Caller)
            .map_err(Refusal)
    }
}
