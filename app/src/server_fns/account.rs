//! The signed-in account: who it is (for the account menu and the navigation) and changing
//! its password.

use leptos::prelude::*;
use switchyard_protocol::Account;

/// The account of this browser session; with sign-in off, the local operator (an admin,
/// `signed_in: false`).
#[server(prefix = "/api/fn", endpoint = "current_account")]
pub async fn current_account() -> Result<Account, ServerFnError> {
    let who = super::access::caller("account.get")?;
    Ok(Account {
        signed_in: who.user_id().is_some(),
        role: who.role().map_or("api key", |r| r.as_str()).to_owned(),
        email: who.name,
    })
}

/// Changes the signed-in user's password; the current one must be right. Other logins of
/// the account end.
#[server(prefix = "/api/fn", endpoint = "change_password")]
pub async fn change_password(current: String, new: String) -> Result<(), ServerFnError> {
    let (service, who) = super::access::service_and_caller("users.change_password")?;
    let Some(user_id) = who.user_id().map(str::to_owned) else {
        return Err(ServerFnError::new(
            "sign-in is off on this server: there is no password to change",
        ));
    };
    let changed =
        switchyard_auth::admin::change_own_password(service.db(), &user_id, &current, &new).await;
    super::access::audited(&who, "users.change_password", &user_id, changed).await
}
