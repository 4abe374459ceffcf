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
use switchyard_auth::projects::{self, Visibility};
use switchyard_auth::{Permission, Role, users};
use tokio::sync::OwnedSemaphorePermit;

use switchyard_auth::audit;

use crate::api::error::ApiError;
use crate::auth::{AuthState, Client};

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
    /// Recorded as the actor of approvals, cancellations and pauses, and in the audit log.
    pub name: String,
    pub identity: Identity,
    /// The projects whose runs, events and keys this caller may see.
    pub visibility: Visibility,
    /// An API key's in-flight slot, held while the handler runs.
    _slot: Option<Arc<OwnedSemaphorePermit>>,
    /// Where the audit log is, and what this request is, for [`Principal::record`].
    trail: Trail,
}

/// What an audit entry about this request needs.
#[derive(Debug, Clone)]
struct Trail {
    db: switchyard_db::Database,
    client: Client,
    request: String,
}

impl Trail {
    async fn append(&self, actor: &str, action: &str, target: &str, result: &str) {
        let entry = self.client.entry(actor, action, target, result);
        if let Err(e) = audit::append(&self.db, &entry).await {
            tracing::error!(error = %e, %action, "could not write the audit log");
        }
    }
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

    /// Appends an audit entry for something this caller did (`action` such as
    /// `runs.cancel`, its target, and `ok` or `failed: …`).
    pub async fn record(&self, action: &str, target: &str, result: &str) {
        self.trail.append(&self.name, action, target, result).await;
    }

    /// `Ok` if this caller sees `project`; otherwise the same 404 as an id that does not
    /// exist (`what`, e.g. "run 0192…"), so foreign ids reveal nothing. A refusal of an
    /// existing resource is audited.
    pub async fn see(&self, project: Option<&str>, what: &str) -> Result<(), ApiError> {
        match project {
            Some(project) if self.visibility.sees(project) => Ok(()),
            found => {
                if found.is_some() {
                    self.trail
                        .append(
                            &self.name,
                            &self.trail.request,
                            what,
                            "denied: not in the caller's projects",
                        )
                        .await;
                }
                Err(ApiError::new(
                    StatusCode::NOT_FOUND,
                    "not_found",
                    format!("{what} not found"),
                ))
            }
        }
    }

    /// The project a new resource goes into: `asked`, or the caller's only project, or
    /// `default`; 404 for a project the caller does not see.
    pub async fn project_for_new(&self, asked: Option<&str>) -> Result<String, ApiError> {
        let chosen = match (asked, &self.visibility) {
            (Some(asked), _) => asked.to_owned(),
            (None, Visibility::Only(only)) if only.len() == 1 => only[0].clone(),
            (None, _) => projects::DEFAULT.to_owned(),
        };
        self.see(Some(&chosen), &format!("project {chosen}"))
            .await?;
        Ok(chosen)
    }

    /// 403 naming the permission unless this caller holds it; the refusal is audited.
    pub async fn require(&self, permission: Permission) -> Result<(), ApiError> {
        if self.may(permission) {
            return Ok(());
        }
        self.trail
            .append(
                &self.name,
                &self.trail.request,
                "",
                &format!("denied: needs {permission:?}"),
            )
            .await;
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

/// A refusal before the handler runs: 401 (with `WWW-Authenticate`) or 429 (with
/// `Retry-After`), in the API's error shape.
#[derive(Debug)]
pub struct Refusal {
    /// Boxed: refusals travel in `Result`s on every request's path; keep those small.
    error: Box<ApiError>,
    retry_after_s: Option<u64>,
}

impl Refusal {
    /// The error and, for a 429, the seconds to wait: for routes that answer in another
    /// shape (the OpenAI-compatible API).
    pub fn into_parts(self) -> (ApiError, Option<u64>) {
        (*self.error, self.retry_after_s)
    }
}

impl IntoResponse for Refusal {
    fn into_response(self) -> Response {
        let unauthorized = self.error.status == StatusCode::UNAUTHORIZED;
        let mut response = (*self.error).into_response();
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

/// 429 with `Retry-After`, for a caller over its limits.
fn too_many(limited: &api_keys::Limited) -> Refusal {
    Refusal {
        retry_after_s: Some(limited.retry_after_s()),
        error: Box::new(ApiError::new(
            StatusCode::TOO_MANY_REQUESTS,
            "rate_limited",
            limited.to_string(),
        )),
    }
}

fn unauthorized(message: &str) -> Refusal {
    Refusal {
        error: Box::new(ApiError::new(
            StatusCode::UNAUTHORIZED,
            "unauthorized",
            message,
        )),
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
        let client = Client::from_request_parts(parts, state)
            .await
            .unwrap_or_default();
        let trail = Trail {
            db: auth.db.clone(),
            client,
            // The path as the client sent it (a nested router sees it without its prefix).
            request: format!(
                "{} {}",
                parts.method,
                parts
                    .extensions
                    .get::<axum::extract::OriginalUri>()
                    .map_or_else(|| parts.uri.path(), |original| original.0.path())
            ),
        };
        if !auth.required {
            return Ok(Self {
                name: "local-operator".into(),
                identity: Identity::LocalOperator,
                visibility: Visibility::All,
                _slot: None,
                trail,
            });
        }
        match Self::authenticate(parts, &auth, trail.clone()).await {
            Ok(principal) => Ok(principal),
            Err((actor, refusal)) => {
                let reason = format!("denied: {}", refusal.error.message);
                trail.append(&actor, &trail.request, "", &reason).await;
                Err(refusal)
            }
        }
    }
}

impl Principal {
    /// The caller behind the request's credentials; on refusal, who it claimed to be (for
    /// the audit log) and the answer.
    async fn authenticate(
        parts: &Parts,
        auth: &AuthState,
        trail: Trail,
    ) -> Result<Self, (String, Refusal)> {
        let anonymous = |refusal: Refusal| ("anonymous".to_owned(), refusal);
        // A bearer token (API clients) or the browser session's access cookie.
        let bearer = parts
            .headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer "))
            .map(|v| v.trim().to_owned());
        let presented = bearer
            .or_else(|| crate::session::read_cookie(&parts.headers, crate::session::ACCESS_COOKIE));
        let Some(presented) = presented else {
            // A WebSocket upgrade may carry a short-lived ticket instead (never a token).
            return match ticket(parts) {
                Some(ticket) => Self::from_ticket(auth, &ticket, trail).await,
                None => Err(anonymous(unauthorized(
                    "send Authorization: Bearer <access token or API key>",
                ))),
            };
        };
        let presented = presented.as_str();
        if presented.starts_with("sy_") {
            let key = api_keys::authenticate(&auth.db, presented)
                .await
                .map_err(|e| match e {
                    KeyError::Db(e) => anonymous(Refusal {
                        error: Box::new(ApiError::internal(&e)),
                        retry_after_s: None,
                    }),
                    other => anonymous(unauthorized(&other.to_string())),
                })?;
            let slot = auth
                .limiter
                .admit(&key)
                .map_err(|limited| (format!("key:{}", key.id), too_many(&limited)))?;
            return Ok(Self {
                name: format!("key:{}", key.id),
                identity: Identity::Key {
                    id: key.id,
                    scopes: key.scopes,
                },
                visibility: Visibility::Only(vec![key.project]),
                _slot: Some(Arc::new(slot)),
                trail,
            });
        }
        let claims = auth
            .keys
            .verify(presented)
            .map_err(|_| anonymous(unauthorized("invalid or expired token")))?;
        Self::for_user(auth, &claims.sub, trail).await
    }

    /// The caller behind a WebSocket ticket.
    async fn from_ticket(
        auth: &AuthState,
        ticket: &str,
        trail: Trail,
    ) -> Result<Self, (String, Refusal)> {
        let claims = auth.keys.verify_ticket(ticket).map_err(|_| {
            (
                "anonymous".to_owned(),
                unauthorized(
                    "invalid or expired ticket: get a new one from POST /api/v1/auth/ws-ticket",
                ),
            )
        })?;
        Self::for_user(auth, &claims.sub, trail).await
    }

    /// The signed-in user `user_id` (not disabled), with the projects it sees.
    async fn for_user(
        auth: &AuthState,
        user_id: &str,
        trail: Trail,
    ) -> Result<Self, (String, Refusal)> {
        let anonymous = |refusal: Refusal| ("anonymous".to_owned(), refusal);
        let user = users::by_id(&auth.db, user_id)
            .await
            .map_err(|e| {
                anonymous(Refusal {
                    error: Box::new(ApiError::internal(&e)),
                    retry_after_s: None,
                })
            })?
            .filter(|u| !u.disabled)
            .ok_or_else(|| (user_id.to_owned(), unauthorized("invalid or expired token")))?;
        let visibility = projects::visibility_of(&auth.db, &user)
            .await
            .map_err(|e| {
                anonymous(Refusal {
                    error: Box::new(ApiError::internal(&e)),
                    retry_after_s: None,
                })
            })?;
        let slot = auth
            .limiter
            .admit_as(&format!("user:{}", user.id), auth.user_limits)
            .map_err(|limited| (user.email.clone(), too_many(&limited)))?;
        Ok(Self {
            name: user.email,
            visibility,
            identity: Identity::User {
                id: user.id,
                role: user.role,
            },
            _slot: Some(Arc::new(slot)),
            trail,
        })
    }
}
