//! `/api/v1/auth`: signing in, tokens and one's own password.

use serde::{Deserialize, Serialize};

use super::admin::UserView;

/// `POST /api/v1/auth/login`.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Login {
    pub email: String,
    pub password: String,
}

/// A new access token and who it is for.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Session {
    pub access_token: String,
    /// Always `Bearer`.
    pub token_type: String,
    /// Seconds.
    pub expires_in: u64,
    pub user: UserView,
}

/// `POST /api/v1/auth/password`.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PasswordChange {
    pub current: String,
    /// 12 to 1,024 characters.
    #[cfg_attr(feature = "openapi", schema(min_length = 12, max_length = 1024))]
    pub new: String,
}

/// `POST /api/v1/auth/ws-ticket`'s answer.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct WsTicket {
    /// Pass as `?ticket=` when opening `/api/v1/live`.
    pub ticket: String,
    pub expires_in_s: u64,
}
