//! Browser sessions: two `HttpOnly; SameSite=Strict` cookies for the whole site, the access
//! token (15 minutes) and the rotating refresh token (30 days), `Secure` when a proxy says
//! the request came over HTTPS.
//!
//! - `POST /login` (a plain form, so sign-in works before the WASM loads) sets both and
//!   redirects to `next`; a wrong password goes back to `/login?error=1`.
//! - `POST /logout` revokes the login's refresh family and clears both.
//! - `POST /setup` creates the first admin on a server with no account, and signs them in;
//!   until then every page leads to `/setup`.
//! - With `auth_required`, [`guard`] stands in front of every page and server function: a
//!   valid access cookie passes; an expired one is renewed from the refresh cookie (new
//!   cookies on the response; requests sent beside it with the same refresh cookie, within
//!   30 s, get an access cookie only, rather than revoking the login as a stolen token's
//!   reuse would); otherwise pages redirect to `/login?next=…` and server functions answer
//!   401.

use axum::Form;
use axum::extract::{Request, State};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;
use switchyard_auth::users::{self, User};
use switchyard_auth::{audit, refresh, token};

use crate::api::error::ApiError;
use crate::auth::Peer;
use switchyard_service::{Access, Channel, Client};

pub const ACCESS_COOKIE: &str = "switchyard_access";
pub const REFRESH_COOKIE: &str = "switchyard_refresh";

/// A `Set-Cookie` value for `name` (empty `value` and age 0 clear it).
pub fn set_cookie(name: &str, value: &str, max_age_s: u64, request: &HeaderMap) -> HeaderValue {
    let secure = request
        .get("x-forwarded-proto")
        .is_some_and(|v| v.as_bytes().eq_ignore_ascii_case(b"https"));
    let text = format!(
        "{name}={value}; HttpOnly; SameSite=Strict; Path=/; Max-Age={max_age_s}{}",
        if secure { "; Secure" } else { "" }
    );
    HeaderValue::from_str(&text).expect("cookie values are URL-safe base64 and ASCII")
}

/// The value of cookie `name` in the request.
pub fn read_cookie(headers: &HeaderMap, name: &str) -> Option<String> {
    let values = headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok());
    switchyard_auth::cookies::find(values, name)
}

/// Both cookies for a fresh access token and `refresh_token`.
pub fn session_cookies(
    state: &Access,
    user: &User,
    refresh_token: &str,
    request: &HeaderMap,
) -> [HeaderValue; 2] {
    [
        access_cookie(state, user, request),
        set_cookie(
            REFRESH_COOKIE,
            refresh_token,
            refresh::REFRESH_TTL.as_secs(),
            request,
        ),
    ]
}

/// A fresh access token for `user`, as its cookie.
fn access_cookie(state: &Access, user: &User, request: &HeaderMap) -> HeaderValue {
    let access = state
        .keys
        .issue(&user.id, user.role, chrono::Utc::now().timestamp());
    set_cookie(ACCESS_COOKIE, &access, token::ACCESS_TTL.as_secs(), request)
}

/// Where to go after signing in: a local path only.
fn safe_next(next: &str) -> &str {
    if next.starts_with('/') && !next.starts_with("//") && !next.contains('\\') {
        next
    } else {
        "/"
    }
}

#[derive(Debug, Deserialize)]
pub struct LoginForm {
    pub email: String,
    pub password: String,
    #[serde(default)]
    pub next: String,
}

/// What a sign-in attempt came to.
#[derive(Debug)]
pub enum SignIn {
    /// A new login: the user and its first refresh token.
    Accepted(User, String),
    /// Wrong email or password, or a disabled account: the reason for the person.
    Refused(String),
}

/// Checks `email` and `password` and starts a login; audited either way. Shared by the JSON
/// API and the sign-in form.
pub async fn sign_in(
    state: &Access,
    client: &Client,
    email: &str,
    password: &str,
) -> Result<SignIn, ApiError> {
    let email = email.trim().to_lowercase();
    let (outcome, actor, result) = match users::authenticate(&state.db, &email, password).await {
        Ok(user) => {
            let refresh_token = refresh::start(&state.db, &user.id)
                .await
                .map_err(|e| ApiError::internal(&e))?;
            let actor = user.id.clone();
            (SignIn::Accepted(user, refresh_token), actor, "ok")
        }
        Err(users::UserError::Db(e)) => return Err(ApiError::internal(&e)),
        Err(refused) => (
            SignIn::Refused(refused.to_string()),
            "anonymous".to_owned(),
            "denied",
        ),
    };
    audit::append(
        &state.db,
        &client.entry(&actor, "auth.login", &email, result),
    )
    .await
    .map_err(|e| ApiError::internal(&e))?;
    Ok(outcome)
}

/// Ends the login the request's refresh cookie belongs to (audited), and returns the
/// `Set-Cookie` values that clear both session cookies. Shared by the API and the form.
pub async fn sign_out(
    state: &Access,
    client: &Client,
    headers: &HeaderMap,
) -> Result<[HeaderValue; 2], ApiError> {
    if let Some(presented) = read_cookie(headers, REFRESH_COOKIE) {
        refresh::revoke(&state.db, &presented)
            .await
            .map_err(|e| ApiError::internal(&e))?;
        audit::append(
            &state.db,
            &client.entry("anonymous", "auth.logout", "", "ok"),
        )
        .await
        .map_err(|e| ApiError::internal(&e))?;
    }
    Ok([ACCESS_COOKIE, REFRESH_COOKIE].map(|name| set_cookie(name, "", 0, headers)))
}

/// `POST /login`: the sign-in form.
pub async fn login_form(
    State(state): State<Access>,
    Peer(client): Peer,
    headers: HeaderMap,
    Form(form): Form<LoginForm>,
) -> Result<Response, ApiError> {
    let next = safe_next(&form.next).to_owned();
    match sign_in(&state, &client, &form.email, &form.password).await? {
        SignIn::Accepted(user, refresh_token) => {
            let mut response = Redirect::to(&next).into_response();
            for cookie in session_cookies(&state, &user, &refresh_token, &headers) {
                response.headers_mut().append(header::SET_COOKIE, cookie);
            }
            Ok(response)
        }
        SignIn::Refused(_) => {
            let query = url::form_urlencoded::Serializer::new(String::new())
                .append_pair("error", "1")
                .append_pair("next", &next)
                .finish();
            Ok(Redirect::to(&format!("/login?{query}")).into_response())
        }
    }
}

#[derive(Debug, Deserialize)]
pub struct SetupForm {
    pub email: String,
    pub password: String,
    pub repeat: String,
}

/// `/setup?error=…`, with the reason for the person.
fn setup_again(reason: &str) -> Response {
    let query = url::form_urlencoded::Serializer::new(String::new())
        .append_pair("error", reason)
        .finish();
    Redirect::to(&format!("/setup?{query}")).into_response()
}

/// `POST /setup`: on a server with no account yet, creates the first admin (a member of
/// `default`) and signs them in. Once any account exists it only leads to `/login`, so the
/// first visitor of a fresh server claims it (it listens on 127.0.0.1 by default; set
/// `SWITCHYARD_ADMIN_EMAIL` / `SWITCHYARD_ADMIN_PASSWORD` to create the admin at start-up
/// instead).
pub async fn setup_form(
    State(state): State<Access>,
    Peer(client): Peer,
    headers: HeaderMap,
    Form(form): Form<SetupForm>,
) -> Result<Response, ApiError> {
    if users::count(&state.db)
        .await
        .map_err(|e| ApiError::internal(&e))?
        > 0
    {
        return Ok(Redirect::to("/login").into_response());
    }
    if form.password != form.repeat {
        return Ok(setup_again("the two passwords differ"));
    }
    let created = switchyard_auth::admin::invite_user(
        &state.db,
        &form.email,
        "admin",
        Some(&form.password),
        &[],
    )
    .await;
    let user = match created {
        Ok((user, _)) => user,
        Err(switchyard_auth::admin::AdminError::Db(e)) => return Err(ApiError::internal(&e)),
        Err(refused) => return Ok(setup_again(&refused.to_string())),
    };
    audit::append(
        &state.db,
        &client.entry(&user.email, "users.setup", &user.id, "ok: first admin"),
    )
    .await
    .map_err(|e| ApiError::internal(&e))?;
    let refresh_token = refresh::start(&state.db, &user.id)
        .await
        .map_err(|e| ApiError::internal(&e))?;
    let mut response = Redirect::to("/").into_response();
    for cookie in session_cookies(&state, &user, &refresh_token, &headers) {
        response.headers_mut().append(header::SET_COOKIE, cookie);
    }
    Ok(response)
}

/// `POST /logout`: ends this browser's login.
pub async fn logout_form(
    State(state): State<Access>,
    Peer(client): Peer,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let cleared = sign_out(&state, &client, &headers).await?;
    let mut response = Redirect::to("/login").into_response();
    for cookie in cleared {
        response.headers_mut().append(header::SET_COOKIE, cookie);
    }
    Ok(response)
}

/// Paths anyone may reach: signing in and out, and the public files (anything with a file
/// extension, e.g. `/favicon.svg`; the bundle under `/pkg` is served before this guard).
fn public(path: &str) -> bool {
    matches!(path, "/login" | "/logout" | "/setup")
        || path
            .rsplit('/')
            .next()
            .is_some_and(|last| last.contains('.'))
}

/// Whether the database has no account at all (a fresh server: time for `/setup`). A
/// database error counts as "has accounts", so the page falls back to sign-in.
async fn no_accounts_yet(state: &Access) -> bool {
    users::count(&state.db).await.is_ok_and(|n| n == 0)
}

/// Stands in front of every page and server function and puts the caller (a
/// [`switchyard_service::Principal`], from the service's resolver) into the request. With
/// `auth_required` off that is the local operator; with it on, only signed-in browsers pass.
pub async fn guard(State(state): State<Access>, request: Request, next: Next) -> Response {
    let (parts, body) = request.into_parts();
    let client = Peer::of(&parts);
    let line = crate::api::principal::request_line(&parts);
    let mut request = Request::from_parts(parts, body);
    if let Ok(operator) = state.without_sign_in(client.clone(), line.clone()) {
        request.extensions_mut().insert(operator);
        return next.run(request).await;
    }
    if public(request.uri().path()) {
        // A fresh server has no account to sign in with: the sign-in page leads to the
        // first-run setup, and the setup page to sign-in once an account exists.
        let path = request.uri().path();
        let page = matches!(*request.method(), Method::GET | Method::HEAD);
        if page && path == "/login" && no_accounts_yet(&state).await {
            return Redirect::to("/setup").into_response();
        }
        if page && path == "/setup" && !no_accounts_yet(&state).await {
            return Redirect::to("/login").into_response();
        }
        return next.run(request).await;
    }
    if let Some(access) = read_cookie(request.headers(), ACCESS_COOKIE)
        && let Ok(claims) = state.keys.verify(&access)
    {
        match state
            .user(&claims.sub, client.clone(), line.clone(), Channel::Pages)
            .await
        {
            Ok(Some(caller)) => {
                request.extensions_mut().insert(caller);
                return next.run(request).await;
            }
            Ok(None) => {}
            Err(e) => return ApiError::from(e).into_response(),
        }
    }
    if let Some(presented) = read_cookie(request.headers(), REFRESH_COOKIE)
        && let Ok((user, next_refresh)) = refresh::renew(&state.db, &presented).await
    {
        match state
            .user(&user.id, client.clone(), line.clone(), Channel::Pages)
            .await
        {
            Ok(Some(caller)) => {
                request.extensions_mut().insert(caller);
                let headers = request.headers().clone();
                let mut response = next.run(request).await;
                let cookies = match &next_refresh {
                    Some(next_refresh) => {
                        session_cookies(&state, &user, next_refresh, &headers).to_vec()
                    }
                    // A request beside the one that renewed the refresh cookie: that one's
                    // answer sets it; this one only gets an access cookie.
                    None => vec![access_cookie(&state, &user, &headers)],
                };
                for cookie in cookies {
                    response.headers_mut().append(header::SET_COOKIE, cookie);
                }
                return response;
            }
            Ok(None) => {}
            Err(e) => return ApiError::from(e).into_response(),
        }
    }
    let is_page = matches!(*request.method(), Method::GET | Method::HEAD)
        && !request.uri().path().starts_with("/api/");
    if is_page && no_accounts_yet(&state).await {
        return Redirect::to("/setup").into_response();
    }
    if is_page {
        let target = request
            .uri()
            .path_and_query()
            .map_or("/", |pq| pq.as_str())
            .to_owned();
        let query = url::form_urlencoded::Serializer::new(String::new())
            .append_pair("next", &target)
            .finish();
        return Redirect::to(&format!("/login?{query}")).into_response();
    }
    ApiError::new(
        StatusCode::UNAUTHORIZED,
        "unauthorized",
        "sign in first: the session has ended",
    )
    .into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_local_targets_and_public_files_pass() {
        assert_eq!(safe_next("/runs?x=1"), "/runs?x=1");
        assert_eq!(safe_next("https://evil.example"), "/");
        assert_eq!(safe_next("//evil.example"), "/");
        assert!(public("/login") && public("/favicon.svg") && public("/robots.txt"));
        assert!(!public("/") && !public("/runs") && !public("/api/fn/system_health"));
    }
}
