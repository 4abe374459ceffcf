//! Who is signed in, for the account menu.

use leptos::prelude::*;
use switchyard_protocol::Account;

/// The signed-in account of this browser session, or `None` (no session, or sign-in not
/// configured).
#[server(prefix = "/api/fn", endpoint = "current_account")]
pub async fn current_account() -> Result<Option<Account>, ServerFnError> {
    let ctx = crate::context::server_context()?;
    let Some(keys) = &ctx.tokens else {
        return Ok(None);
    };
    let headers: http::HeaderMap = leptos_axum::extract().await?;
    let values = headers
        .get_all(http::header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok());
    let Some(token) = switchyard_auth::cookies::find(values, "switchyard_access") else {
        return Ok(None);
    };
    let Ok(claims) = keys.verify(&token) else {
        return Ok(None);
    };
    let user = switchyard_auth::users::by_id(&ctx.db, &claims.sub)
        .await
        .map_err(|e| ServerFnError::new(e.to_string()))?;
    Ok(user.filter(|u| !u.disabled).map(|u| Account {
        email: u.email,
        role: u.role.as_str().to_owned(),
    }))
}
