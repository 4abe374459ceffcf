//! `/api/v1/auth`: log in, refresh, log out, and who am I.
//!
//! Logging in answers a short-lived access token (a JWT, 15 minutes) in the body and sets
//! the browser session's cookies ([`crate::session`]): the access token and a rotating
//! refresh token, `HttpOnly; SameSite=Strict` (`Secure` when the request arrived over HTTPS
//! at a proxy that says so). Every attempt, good or bad, goes to the audit log. Signing in
//! and out are [`crate::session::sign_in`] and [`crate::session::sign_out`], shared with the
//! sign-in form.

use axum::Json;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use switchyard_auth::refresh::{self, RefreshError};
use switchyard_auth::users::{self, User};
use switchyard_auth::{audit, token};
use switchyard_protocol::api::admin::UserView;
use switchyard_protocol::api::auth::{Login, PasswordChange, Session, WsTicket};

use crate::api::error::ApiError;
use crate::api::json::ApiJson;
use crate::api::principal::Caller;
use crate::auth::Peer;
use crate::session::{self, SignIn};
use switchyard_service::{Access, Service};

/// An account as the API shows it.
pub fn user_view(user: User) -> UserView {
    UserView {
        id: user.id,
        email: user.email,
        role: user.role.as_str().to_owned(),
        disabled: user.disabled,
        created_at_ms: user.created_at_ms,
    }
}

fn unauthorized(message: &str) -> ApiError {
    ApiError::new(StatusCode::UNAUTHORIZED, "unauthorized", message)
}

fn session(state: &Access, user: User, refresh_token: &str, headers: &HeaderMap) -> Response {
    let access_token = state
        .keys
        .issue(&user.id, user.role, chrono::Utc::now().timestamp());
    // The API client gets the token in the body; a browser also gets both session cookies
    // (the same ones the sign-in form sets).
    let cookies = session::session_cookies(state, &user, refresh_token, headers);
    let mut response = Json(Session {
        access_token,
        token_type: "Bearer".to_owned(),
        expires_in: token::ACCESS_TTL.as_secs(),
        user: user_view(user),
    })
    .into_response();
    for cookie in cookies {
        response.headers_mut().append(header::SET_COOKIE, cookie);
    }
    response
        .headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}

/// Logs in with email and password.
#[utoipa::path(post, path = "/api/v1/auth/login", tag = "auth", request_body = Login,
    responses((status = 200, body = Session),
        (status = 400, description = "Malformed JSON or a missing field", body = crate::api::error::ErrorBody),
        (status = 401, body = crate::api::error::ErrorBody),
        crate::api::error::BodyRefusals
    ))]
pub async fn login(
    State(state): State<Access>,
    Peer(client): Peer,
    headers: HeaderMap,
    ApiJson(login): ApiJson<Login>,
) -> Result<Response, ApiError> {
    match session::sign_in(&state, &client, &login.email, &login.password).await? {
        SignIn::Accepted(user, refresh_token) => {
            Ok(session(&state, user, &refresh_token, &headers))
        }
        SignIn::Refused(reason) => Err(unauthorized(&reason)),
    }
}

/// Exchanges the refresh cookie for a new access token and a new refresh cookie.
#[utoipa::path(post, path = "/api/v1/auth/refresh", tag = "auth",
    responses((status = 200, body = Session), (status = 401, body = crate::api::error::ErrorBody)))]
pub async fn refresh(
    State(state): State<Access>,
    Peer(client): Peer,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let presented = session::read_cookie(&headers, session::REFRESH_COOKIE)
        .ok_or_else(|| unauthorized("no refresh cookie"))?;
    match refresh::rotate(&state.db, &presented).await {
        Ok((user, next)) => Ok(session(&state, user, &next, &headers)),
        Err(RefreshError::Db(e)) => Err(ApiError::internal(&e)),
        Err(e) => {
            let result = if matches!(e, RefreshError::Reused) {
                "denied: reused, family revoked"
            } else {
                "denied"
            };
            audit::append(
                &state.db,
                &client.entry("anonymous", "auth.refresh", "", result),
            )
            .await
            .map_err(|e| ApiError::internal(&e))?;
            Err(unauthorized(&e.to_string()))
        }
    }
}

/// Ends this login: its refresh family is revoked and the cookie cleared.
#[utoipa::path(post, path = "/api/v1/auth/logout", tag = "auth", responses((status = 204)))]
pub async fn logout(
    State(state): State<Access>,
    Peer(client): Peer,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let cleared = session::sign_out(&state, &client, &headers).await?;
    let mut response = StatusCode::NO_CONTENT.into_response();
    for cookie in cleared {
        response.headers_mut().append(header::SET_COOKIE, cookie);
    }
    Ok(response)
}

/// The user a bearer token belongs to.
#[utoipa::path(get, path = "/api/v1/auth/me", tag = "auth",
    responses((status = 200, body = UserView), (status = 401, body = crate::api::error::ErrorBody)))]
pub async fn me(
    State(state): State<Access>,
    headers: HeaderMap,
) -> Result<Json<UserView>, ApiError> {
    let token = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .ok_or_else(|| unauthorized("send Authorization: Bearer <access token>"))?;
    let claims = state.keys.verify(token).map_err(|e| {
        tracing::debug!(error = %e, "refused a bearer token");
        unauthorized("invalid or expired token")
    })?;
    let user = users::by_id(&state.db, &claims.sub)
        .await
        .map_err(|e| ApiError::internal(&e))?
        .filter(|u| !u.disabled)
        .ok_or_else(|| unauthorized("invalid or expired token"))?;
    Ok(Json(user_view(user)))
}

/// Changes the caller's own password (a signed-in user, not an API key): 204, and every
/// login of the account ends; 400 when the current password is wrong or the new one too short.
#[utoipa::path(post, path = "/api/v1/auth/password", tag = "auth", request_body = PasswordChange,
    responses((status = 204, description = "Changed; every login of the account ended"),
        (status = 400, description = "The current password is wrong, the new one too short or too long, or the caller is an API key", body = crate::api::error::ErrorBody),
        crate::api::error::BodyRefusals,
        crate::api::error::Refusals
    ))]
pub async fn change_password(
    Caller(who): Caller,
    State(service): State<Service>,
    ApiJson(body): ApiJson<PasswordChange>,
) -> Result<StatusCode, ApiError> {
    service
        .change_own_password(&who, &body.current, &body.new)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// A 30-second ticket for opening the live WebSocket from a client that can send neither the
/// session cookie nor an `Authorization` header. Signed-in users only; it is refused
/// anywhere but on the socket.
#[utoipa::path(post, path = "/api/v1/auth/ws-ticket", tag = "auth",
    responses((status = 200, body = WsTicket),
        (status = 400, description = "The caller is not a signed-in user (API keys send `Authorization` on the upgrade)", body = crate::api::error::ErrorBody),
        crate::api::error::Refusals
    ))]
pub async fn ws_ticket(
    Caller(who): Caller,
    State(state): State<Access>,
) -> Result<Json<WsTicket>, ApiError> {
    let crate::api::principal::Identity::User { id, role } = &who.identity else {
        return Err(ApiError::bad_request(
            "tickets are for signed-in users; API keys send Authorization: Bearer on the upgrade",
        ));
    };
    let ticket = state
        .keys
        .issue_ticket(id, *role, chrono::Utc::now().timestamp());
    Ok(Json(WsTicket {
        ticket,
        expires_in_s: token::TICKET_TTL.as_secs(),
    }))
}
