//! Who is calling, and whether they may. Every `/api/v1` handler that reads or changes runs
//! takes a [`Principal`] and asks [`Principal::require`] for the permission it needs; the
//! role → permission table lives in `switchyard_auth::role`, the scope → permission mapping
//! here.
//!
//! With `auth_required` on, a request must carry `Authorization: Bearer …`: an access token
//! from `/api/v1/auth/login`, or an API key (`sy_…`), which is also held to its rate and
//! concurrency limits (429 with `Retry-After`). Without credentials, or with bad ones: 401.
//! Allowed identity, missing permission: 403. With it off (the default until the login
//! page lands), every caller is the local operator with every right.

use std::sync::Arc;

use axum::extract::{FromRef, FromRequestParts};
use axum::http::request::Parts;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use switchyard_auth::api_keys::{self, KeyError, Scope};
use switchyard_auth::{Permission, Role, users};
use tokio::sync::OwnedSemaphorePermit;

use crate::api::error::ApiError;
use crate::auth::AuthState;

/// Who a request acts as.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Identity {
    /// `auth_required` is off.
    LocalOperator,
    User {
        id: String,
        role: Role,
    },
    Key {
        id: String,
        scopes: Vec<Scope>,
    },
}

/// The caller, as handlers see it.
#[derive(Debug, Clone)]
pub struct Principal {
    /// Recorded as the actor of approvals, cancellations and pauses.
    pub name: String,
    pub identity: Identity,
    /// An API key's in-flight slot, held while the handler runs.
    _slot: Option<Arc<OwnedSemaphorePermit>>,
}

/// The scope an API key needs for a permission.
fn scope_for(permission: Permission) -> Scope {
    match permission {
        Permission::ReadRuns => Scope::RunsRead,
        Permission::WriteRuns => Scope::RunsWrite,
        Permission::Approve => Scope::Approve,
        Permission::IngestEvents => Scope::EventsIngest,
        Permission::Infer => Scope::Infer,
        Permission::ManageUsers
        | Permission::ManageKeys
        | Permission::ReadAudit
        | Permission::KillSwitch => Scope::Admin,
    }
}

impl Principal {
    /// Whether this caller holds `permission`.
    pub fn may(&self, permission: Permission) -> bool {
        match &self.identity {
            Identity::LocalOperator => true,
            Identity::User { role, .. } => role.allows(permission),
            Identity::Key { scopes, .. } => {
                scopes.contains(&scope_for(permission)) || scopes.contains(&Scope::Admin)
            }
        }
    }

    /// 403 naming the permission unless this caller holds it.
    pub fn require(&self, permission: Permission) -> Result<(), ApiError> {
        if self.may(permission) {
            return Ok(());
        }
        let what = match &self.identity {
            Identity::Key { .. } => format!(
                "this API key lacks the scope {}",
                scope_for(permission).as_str()
            ),
            _ => format!("your role does not allow {permission:?}"),
        };
        Err(ApiError::new(StatusCode::FORBIDDEN, "forbidden", what))
    }
}

/// A refusal before the handler runs: 401 (with `WWW-Authenticate`) or 429 (with
/// `Retry-After`), in the API's error shape.
#[derive(Debug)]
pub struct Refusal {
    error: ApiError,
    retry_after_s: Option<u64>,
}

impl IntoResponse for Refusal {
    fn into_response(self) -> Response {
        let unauthorized = self.error.status == StatusCode::UNAUTHORIZED;
        let mut response = self.error.into_response();
        if unauthorized {
            response.headers_mut().insert(
                header::WWW_AUTHENTICATE,
                HeaderValue::from_static("Bearer realm=\"switchyard\""),
            );
        }
        if let Some(seconds) = self.retry_after_s
            && let Ok(value) = HeaderValue::from_str(&seconds.to_string())
        {
            response.headers_mut().insert(header::RETRY_AFTER, value);
        }
        response
    }
}

fn unauthorized(message: &str) -> Refusal {
    Refusal {
        error: ApiError::new(StatusCode::UNAUTHORIZED, "unauthorized", message),
        retry_after_s: None,
    }
}

impl<S> FromRequestParts<S> for Principal
where
    S: Send + Sync,
    AuthState: FromRef<S>,
{
    type Rejection = Refusal;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let auth = AuthState::from_ref(state);
        if !auth.required {
            return Ok(Self {
                name: "local-operator".into(),
                identity: Identity::LocalOperator,
                _slot: None,
            });
        }
        let presented = parts
            .headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer "))
            .map(str::trim)
            .ok_or_else(|| unauthorized("send Authorization: Bearer <access token or API key>"))?;
        if presented.starts_with("sy_") {
            let key = api_keys::authenticate(&auth.db, presented)
                .await
                .map_err(|e| match e {
                    KeyError::Db(e) => Refusal {
                        error: ApiError::internal(&e),
                        retry_after_s: None,
                    },
                    other => unauthorized(&other.to_string()),
                })?;
            let slot = auth.limiter.admit(&key).map_err(|limited| Refusal {
                retry_after_s: Some(limited.retry_after_s()),
                error: ApiError::new(
                    StatusCode::TOO_MANY_REQUESTS,
                    "rate_limited",
                    limited.to_string(),
                ),
            })?;
            return Ok(Self {
                name: format!("key:{}", key.id),
                identity: Identity::Key {
                    id: key.id,
                    scopes: key.scopes,
                },
                _slot: Some(Arc::new(slot)),
            });
        }
        let claims = auth
            .keys
            .verify(presented)
            .map_err(|_| unauthorized("invalid or expired token"))?;
        let user = users::by_id(&auth.db, &claims.sub)
            .await
            .map_err(|e| Refusal {
                error: ApiError::internal(&e),
                retry_after_s: None,
            })?
            .filter(|u| !u.disabled)
            .ok_or_else(|| unauthorized("invalid or expired token"))?;
        Ok(Self {
            name: user.email,
            identity: Identity::User {
                id: user.id,
                role: user.role,
            },
            _slot: None,
        })
    }
}
