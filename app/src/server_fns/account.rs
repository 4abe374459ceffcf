//! The signed-in account: who it is (for the account menu and the navigation) and changing
//! its password.

use leptos::prelude::*;
use switchyard_protocol::Account;

/// The account of this browser session; with sign-in off, the local operator (an admin,
/// `signed_in: false`).
#[server(prefix = "/api/fn", endpoint = "current_account")]
pub async fn current_account() -> Result<Account, ServerFnError> {
    let caller = super::access::caller()?;
    Ok(Account {
        signed_in: caller.user_id.is_some(),
        email: caller.name,
        role: caller.role.as_str().to_owned(),
    })
}

/// Changes the signed-in user's password; the current one must be right. Other logins of
/// the account end.
#[server(prefix = "/api/fn", endpoint = "change_password")]
pub async fn change_password(current: String, new: String) -> Result<(), ServerFnError> {
    let ctx = crate::context::server_context()?;
    let caller = super::access::caller()?;
    let Some(user_id) = caller.user_id.clone() else {
        return Err(ServerFnError::new(
            "sign-in is off on this server: there is no password to change",
        ));
    };
    let changed =
        switchyard_auth::admin::change_own_password(&ctx.db, &user_id, &current, &new).await;
    super::access::audited(&ctx, &caller, "users.change_password", &user_id, changed).await
}
