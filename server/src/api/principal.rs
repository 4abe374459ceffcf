//! Who is calling. Every handler that reads or changes runs takes a [`Principal`], so the
//! security work (users, sessions, API keys) only has to fill it in: until then every caller
//! is the local operator, with every right.

use axum::extract::FromRequestParts;
use axum::http::request::Parts;

/// The caller, as handlers see it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Principal {
    /// Recorded as the actor of approvals, cancellations and pauses.
    pub name: String,
}

impl<S: Send + Sync> FromRequestParts<S> for Principal {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(_parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        Ok(Self {
            name: "local-operator".into(),
        })
    }
}
