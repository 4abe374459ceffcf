//! What the admin page shows: accounts, projects, API keys, kill switches and the audit log.
//! Secrets never appear here, except the one-time answers [`Invited`] and [`KeyIssued`].

use serde::{Deserialize, Serialize};

/// One account.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UserRow {
    pub id: String,
    pub email: String,
    /// `admin`, `operator` or `viewer`.
    pub role: String,
    pub disabled: bool,
    /// The projects it is a member of.
    pub projects: Vec<String>,
}

/// One project and its members' emails.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProjectRow {
    pub name: String,
    pub members: Vec<String>,
}

/// One API key (never its secret).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct KeyRow {
    pub id: String,
    pub name: String,
    pub project: String,
    pub scopes: Vec<String>,
    pub rate_per_min: u32,
    pub max_concurrency: u32,
    pub last_used_at_ms: Option<i64>,
    pub revoked: bool,
}

/// One capability and, when it is off, why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SwitchRow {
    /// e.g. `new_runs`.
    pub capability: String,
    /// e.g. "starting new runs".
    pub describe: String,
    /// `Some(reason)` when switched off.
    pub off_reason: Option<String>,
    pub set_by: Option<String>,
}

/// Everything on the admin page but the audit log.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AdminOverview {
    pub users: Vec<UserRow>,
    pub projects: Vec<ProjectRow>,
    pub keys: Vec<KeyRow>,
    pub switches: Vec<SwitchRow>,
}

/// An invited account and its one-time password (shown once).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Invited {
    pub email: String,
    pub password: String,
}

/// A new API key and its secret (shown once).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct KeyIssued {
    pub id: String,
    pub secret: String,
}

/// One audit entry.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditRow {
    pub seq: i64,
    pub at_ms: i64,
    pub actor: String,
    pub action: String,
    pub target: String,
    pub result: String,
    pub ip: String,
}
