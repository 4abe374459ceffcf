//! [`Access`]: the one place that turns presented credentials into a [`Principal`] — for
//! the REST API, the live socket, pages and server functions alike.
//!
//! With `auth_required` off every caller is the local operator with every right. With it
//! on: an access token (from `POST /api/v1/auth/login` or the browser's session cookie) or an
//! API key (`sy_…`, held to its rate and concurrency limits), or on a WebSocket upgrade a
//! short-lived ticket. A refusal of the API's kind (no or bad credentials: 401; over a
//! limit: 429 with a retry hint) is audited with whoever the caller claimed to be.

use std::sync::Arc;

use switchyard_auth::api_keys::{self, KeyError, Limiter, Limits};
use switchyard_auth::{TokenKeys, projects, users};
use switchyard_db::Database;

use crate::error::{ErrorKind, ServiceError};
use crate::principal::{Client, Identity, Principal, Trail};

/// What a request presented.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Credentials {
    None,
    /// An access token or an API key (`Authorization: Bearer …`, or the session cookie).
    Bearer(String),
    /// A WebSocket upgrade's `ticket` (from `POST /api/v1/auth/ws-ticket`).
    Ticket(String),
}

/// How a request reaches us, which decides whether per-caller request limits apply.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Channel {
    /// The REST API, the live socket, the OpenAI-compatible API: limits apply.
    Api,
    /// A browser session's pages and server functions: one page makes many requests, and the
    /// session cookie is checked by the guard in front of them; no per-request limits.
    Pages,
}

/// Token keys, accounts and limits. Cheap to clone.
#[derive(Debug, Clone)]
pub struct Access {
    pub db: Database,
    pub keys: TokenKeys,
    /// Whether requests need credentials (`auth_required`).
    pub required: bool,
    /// API keys' and users' rate and concurrency limits in this process.
    pub limiter: Limiter,
    /// What every signed-in user may send to the API (`user_rate_per_min`,
    /// `user_max_concurrency`); API keys carry their own.
    pub user_limits: Limits,
}

fn unauthorized(message: &str) -> ServiceError {
    ServiceError::new(ErrorKind::Unauthorized, "unauthorized", message)
}

fn too_many(limited: &api_keys::Limited) -> ServiceError {
    ServiceError {
        retry_after_s: Some(limited.retry_after_s()),
        ..ServiceError::new(ErrorKind::RateLimited, "rate_limited", limited.to_string())
    }
}

impl Access {
    /// The caller behind `presented`, for an API request described by `request` (such as
    /// `POST /api/v1/runs`). A refusal is audited before it is returned.
    pub async fn resolve(
        &self,
        presented: Credentials,
        client: Client,
        request: String,
    ) -> Result<Principal, ServiceError> {
        let (client, request) = match self.without_sign_in(client, request) {
            Ok(operator) => return Ok(operator),
            Err(unsigned) => unsigned,
        };
        let trail = Trail {
            db: self.db.clone(),
            client,
            request,
        };
        match self.authenticate(presented, trail.clone()).await {
            Ok(principal) => Ok(principal),
            Err((actor, refusal)) => {
                let reason = format!("denied: {}", refusal.message);
                trail.append(&actor, &trail.request, "", &reason).await;
                Err(refusal)
            }
        }
    }

    /// The local operator when sign-in is off; when it is on, the request back (the caller
    /// must sign in).
    pub fn without_sign_in(
        &self,
        client: Client,
        request: String,
    ) -> Result<Principal, (Client, String)> {
        if self.required {
            return Err((client, request));
        }
        Ok(Principal::local_operator(self.db.clone(), client, request))
    }

    /// The caller behind a verified access token's subject — the signed-in user, if it
    /// exists and is not disabled — with the projects it sees. `Ok(None)`: the account is gone
    /// or disabled.
    pub async fn user(
        &self,
        user_id: &str,
        client: Client,
        request: String,
        channel: Channel,
    ) -> Result<Option<Principal>, ServiceError> {
        let trail = Trail {
            db: self.db.clone(),
            client,
            request,
        };
        match self.for_user(user_id, trail, channel).await {
            Ok(principal) => Ok(Some(principal)),
            Err((_, e)) if e.kind == ErrorKind::Unauthorized => Ok(None),
            Err((_, e)) => Err(e),
        }
    }

    /// The caller, or who it claimed to be (for the audit log) and the refusal.
    async fn authenticate(
        &self,
        presented: Credentials,
        trail: Trail,
    ) -> Result<Principal, (String, ServiceError)> {
        let anonymous = |e: ServiceError| ("anonymous".to_owned(), e);
        let presented = match presented {
            Credentials::Bearer(presented) => presented,
            Credentials::Ticket(ticket) => {
                let claims = self.keys.verify_ticket(&ticket).map_err(|_| {
                    anonymous(unauthorized(
                        "invalid or expired ticket: get a new one from POST /api/v1/auth/ws-ticket",
                    ))
                })?;
                return self.for_user(&claims.sub, trail, Channel::Api).await;
            }
            Credentials::None => {
                return Err(anonymous(unauthorized(
                    "send Authorization: Bearer <access token or API key>",
                )));
            }
        };
        if presented.starts_with("sy_") {
            let key = api_keys::authenticate(&self.db, &presented)
                .await
                .map_err(|e| match e {
                    KeyError::Db(e) => anonymous(ServiceError::internal(&e)),
                    other => anonymous(unauthorized(&other.to_string())),
                })?;
            let name = format!("key:{}", key.id);
            let slot = self
                .limiter
                .admit(&key)
                .map_err(|limited| (name.clone(), too_many(&limited)))?;
            return Ok(Principal {
                name,
                identity: Identity::Key {
                    id: key.id,
                    scopes: key.scopes,
                    workflows: key.workflows,
                },
                visibility: projects::Visibility::Only(vec![key.project]),
                _slot: Some(Arc::new(slot)),
                trail,
            });
        }
        let claims = self
            .keys
            .verify(&presented)
            .map_err(|_| anonymous(unauthorized("invalid or expired token")))?;
        self.for_user(&claims.sub, trail, Channel::Api).await
    }

    /// The signed-in user `user_id` (not disabled), with the projects it sees; on the API
    /// channel, admitted under the users' limits.
    async fn for_user(
        &self,
        user_id: &str,
        trail: Trail,
        channel: Channel,
    ) -> Result<Principal, (String, ServiceError)> {
        let anonymous = |e: ServiceError| ("anonymous".to_owned(), e);
        let user = users::by_id(&self.db, user_id)
            .await
            .map_err(|e| anonymous(ServiceError::internal(&e)))?
            .filter(|u| !u.disabled)
            .ok_or_else(|| (user_id.to_owned(), unauthorized("invalid or expired token")))?;
        let visibility = projects::visibility_of(&self.db, &user)
            .await
            .map_err(|e| anonymous(ServiceError::internal(&e)))?;
        let slot = match channel {
            Channel::Pages => None,
            Channel::Api => Some(Arc::new(
                self.limiter
                    .admit_as(&format!("user:{}", user.id), self.user_limits)
                    .map_err(|limited| (user.email.clone(), too_many(&limited)))?,
            )),
        };
        Ok(Principal {
            name: user.email,
            visibility,
            identity: Identity::User {
                id: user.id,
                role: user.role,
            },
            _slot: slot,
            trail,
        })
    }
}
