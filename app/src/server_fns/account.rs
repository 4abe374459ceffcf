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
    use super::access::{refused, service_and_caller};
    let (service, who) = service_and_caller("users.change_password")?;
    service
        .change_own_password(&who, &current, &new)
        .await
        .map_err(refused)
}
