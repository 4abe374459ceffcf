//! The signed-in account, as the account menu shows it.

use serde::{Deserialize, Serialize};

/// Who a browser session belongs to.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Account {
    pub email: String,
    /// `admin`, `operator` or `viewer`.
    pub role: String,
}
