//! The signed-in account, as the account menu shows it.

use serde::{Deserialize, Serialize};

/// Who a browser session belongs to.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Account {
    pub email: String,
    /// `admin`, `operator` or `viewer`.
    pub role: String,
    /// False when sign-in is off and everyone is the local operator (with every right).
    pub signed_in: bool,
}

impl Account {
    /// Whether the admin page and its controls are for this account.
    pub fn is_admin(&self) -> bool {
        self.role == "admin"
    }

    /// Whether this account may approve or reject steps (admins and operators).
    pub fn may_decide(&self) -> bool {
        matches!(self.role.as_str(), "admin" | "operator")
    }
}
