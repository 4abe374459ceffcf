//! Admin operations with their input checks, shared by the REST API (`/api/v1/admin`) and the
//! admin page's server functions, so both refuse the same input with the same words.

use switchyard_db::Database;

use crate::api_keys::{self, ApiKey, Grants, NewKey};
use crate::kill::{Capability, KillSwitches};
use crate::projects::{self, ProjectError};
use crate::users::{self, User, UserError};
use crate::{Role, random, refresh};

/// Why an admin operation was refused. [`AdminError::Invalid`] is the caller's mistake (400),
/// [`AdminError::Exists`] a conflict (409), [`AdminError::NotFound`] a missing target (404).
#[derive(Debug, thiserror::Error)]
pub enum AdminError {
    #[error("{0}")]
    Invalid(String),
    #[error("{0}")]
    Exists(String),
    /// An admin acting on their own account in a way that could lock them out.
    #[error("{0}")]
    OwnAccount(String),
    #[error("{0}")]
    NotFound(String),
    #[error("the database failed: {0}")]
    Db(#[from] sqlx::Error),
}

impl From<UserError> for AdminError {
    fn from(e: UserError) -> Self {
        match e {
            UserError::Db(e) => Self::Db(e),
            UserError::Exists(_) => Self::Exists(e.to_string()),
            UserError::NotFound(_) => Self::NotFound(e.to_string()),
            other => Self::Invalid(other.to_string()),
        }
    }
}

impl From<ProjectError> for AdminError {
    fn from(e: ProjectError) -> Self {
        match e {
            ProjectError::Db(e) => Self::Db(e),
            ProjectError::Exists(_) => Self::Exists(e.to_string()),
            ProjectError::NotFound(_) | ProjectError::NoUser(_) => Self::NotFound(e.to_string()),
            ProjectError::BadName(_) => Self::Invalid(e.to_string()),
        }
    }
}

/// Creates an account with `role` in `projects` (none given: `default`). Without a
/// `password`, one is generated; the answer carries the password to hand over once.
pub async fn invite_user(
    db: &Database,
    email: &str,
    role: &str,
    password: Option<&str>,
    member_of: &[String],
) -> Result<(User, String), AdminError> {
    let role = Role::parse(role).map_err(AdminError::Invalid)?;
    let member_of: Vec<String> = if member_of.is_empty() {
        vec![projects::DEFAULT.to_owned()]
    } else {
        member_of.to_vec()
    };
    // Every project must exist before anything is written.
    for project in &member_of {
        projects::require(db, project).await?;
    }
    let password = password.map_or_else(|| random::token(18), str::to_owned);
    let user = users::create(db, email, &password, role).await?;
    for project in &member_of {
        projects::add_member(db, project, &user.id).await?;
    }
    Ok((user, password))
}

/// The user with this email, or [`AdminError::NotFound`].
pub async fn user_by_email(db: &Database, email: &str) -> Result<User, AdminError> {
    users::by_email(db, email)
        .await?
        .ok_or_else(|| AdminError::NotFound(format!("no user with email {}", email.trim())))
}

/// Disables an account, ending every login of it at once, or enables it again. `by` is the
/// acting user's id: nobody disables their own account (and locks themselves out).
pub async fn set_disabled(
    db: &Database,
    id: &str,
    disabled: bool,
    by: Option<&str>,
) -> Result<(), AdminError> {
    if disabled && by == Some(id) {
        return Err(AdminError::OwnAccount(
            "you cannot disable your own account".into(),
        ));
    }
    users::set_disabled(db, id, disabled).await?;
    if disabled {
        refresh::revoke_user(db, id).await?;
    }
    Ok(())
}

/// A user changes their own password: the current one must be right, and every login of
/// the account ends.
pub async fn change_own_password(
    db: &Database,
    id: &str,
    current: &str,
    new: &str,
) -> Result<(), AdminError> {
    users::change_password(db, id, current, new).await?;
    refresh::revoke_user(db, id).await?;
    Ok(())
}

/// Turns `capability` off for every server with `reason` (required: every refused caller
/// reads it), or back on when `reason` is `None`.
pub async fn set_switch(
    switches: &KillSwitches,
    capability: Capability,
    reason: Option<&str>,
    by: &str,
) -> Result<(), AdminError> {
    match reason.map(str::trim) {
        Some("") => Err(AdminError::Invalid(
            "reason must say why (it is shown to every refused caller)".into(),
        )),
        Some(reason) => Ok(switches.switch_off(capability, reason, by).await?),
        None => Ok(switches.switch_on(capability).await.map(|_| ())?),
    }
}

/// What a new key asks for, as typed.
#[derive(Debug, Clone)]
pub struct KeyRequest<'a> {
    pub name: &'a str,
    pub project: &'a str,
    /// Comma-separated, e.g. `runs:read,runs:write`.
    pub scopes: &'a str,
    pub rate_per_min: u32,
    pub max_concurrency: u32,
}

/// The longest key name, in characters.
pub const MAX_KEY_NAME: usize = 200;
/// The highest request rate a key may be given, per minute.
pub const MAX_RATE_PER_MIN: u32 = 1_000_000;
/// The most requests a key may have in flight at once.
pub const MAX_CONCURRENCY: u32 = 10_000;

/// Checks a key request and issues the key: the key and its secret (shown once).
pub async fn issue_key(
    db: &Database,
    request: &KeyRequest<'_>,
    created_by: &str,
) -> Result<(ApiKey, String), AdminError> {
    let name = request.name.trim();
    if name.is_empty() || request.name.chars().count() > MAX_KEY_NAME {
        return Err(AdminError::Invalid(format!(
            "name must be 1 to {MAX_KEY_NAME} characters, not blank"
        )));
    }
    let grants = Grants::parse(request.scopes).map_err(AdminError::Invalid)?;
    if !(1..=MAX_RATE_PER_MIN).contains(&request.rate_per_min) {
        return Err(AdminError::Invalid(format!(
            "rate_per_min must be 1 to {MAX_RATE_PER_MIN}"
        )));
    }
    if !(1..=MAX_CONCURRENCY).contains(&request.max_concurrency) {
        return Err(AdminError::Invalid(format!(
            "max_concurrency must be 1 to {MAX_CONCURRENCY}"
        )));
    }
    projects::require(db, request.project).await?;
    Ok(api_keys::create(
        db,
        &NewKey {
            name,
            project: request.project,
            scopes: &grants.scopes,
            workflows: &grants.workflows,
            rate_per_min: request.rate_per_min,
            max_concurrency: request.max_concurrency,
            created_by,
        },
    )
    .await?)
}
