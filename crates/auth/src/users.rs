//! Accounts: an email (the login, stored lowercase), an argon2id password hash, a role, and
//! whether the account is disabled.

use std::sync::LazyLock;

use switchyard_db::Database;

use crate::password::{self, PasswordError};
use crate::role::Role;

/// A user as the rest of Switchyard sees one (never the hash).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct User {
    pub id: String,
    pub email: String,
    pub role: Role,
    pub disabled: bool,
    pub created_at_ms: i64,
}

/// Why a user operation was refused.
#[derive(Debug, thiserror::Error)]
pub enum UserError {
    #[error("a user with email {0} already exists")]
    Exists(String),
    #[error("user {0} not found")]
    NotFound(String),
    #[error("invalid email '{0}': expected name@domain")]
    BadEmail(String),
    #[error(transparent)]
    Password(#[from] PasswordError),
    /// Unknown email or wrong password: deliberately the same answer.
    #[error("wrong email or password")]
    BadCredentials,
    #[error("the current password is wrong")]
    WrongPassword,
    #[error("this account is disabled")]
    Disabled,
    #[error("the database failed: {0}")]
    Db(#[from] sqlx::Error),
}

/// The longest email accepted, in characters (before trimming).
pub const MAX_EMAIL_CHARS: usize = 254;

/// Lowercased, trimmed of ASCII whitespace, and plausibly an address: `name@domain` with no
/// whitespace, control or zero-width no-break characters inside, at most
/// [`MAX_EMAIL_CHARS`] characters as sent. The API document states the same rule as a
/// pattern.
pub fn normalise_email(email: &str) -> Result<String, UserError> {
    let invisible = |c: char| c.is_whitespace() || c.is_control() || c == '\u{feff}';
    let trimmed = email.trim_matches(|c: char| c.is_ascii_whitespace());
    let plausible = email.chars().count() <= MAX_EMAIL_CHARS
        && !trimmed.chars().any(invisible)
        && trimmed
            .split_once('@')
            .is_some_and(|(name, domain)| !name.is_empty() && !domain.is_empty());
    if plausible {
        Ok(trimmed.to_lowercase())
    } else {
        Err(UserError::BadEmail(email.trim().to_lowercase()))
    }
}

type Row = (String, String, String, bool, i64);

fn user(row: Row) -> User {
    let (id, email, role, disabled, created_at_ms) = row;
    User {
        id,
        email,
        // The column's CHECK constraint admits only the three names.
        role: Role::parse(&role).unwrap_or(Role::Viewer),
        disabled,
        created_at_ms,
    }
}

const COLUMNS: &str = "id, email, role, disabled, created_at_ms";

/// Creates a user; the password must pass [`password::acceptable`].
pub async fn create(
    db: &Database,
    email: &str,
    password: &str,
    role: Role,
) -> Result<User, UserError> {
    let email = normalise_email(email)?;
    password::acceptable(password)?;
    let created = User {
        id: uuid::Uuid::now_v7().to_string(),
        email: email.clone(),
        role,
        disabled: false,
        created_at_ms: crate::now_ms(),
    };
    let hash = password::hash(password);
    const SQL: &str = "INSERT INTO users (id, email, password_hash, role, disabled, created_at_ms) \
                       VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (email) DO NOTHING";
    let inserted = on_pool!(db, pool => sqlx::query(SQL)
        .bind(&created.id)
        .bind(&created.email)
        .bind(&hash)
        .bind(role.as_str())
        .bind(false)
        .bind(created.created_at_ms)
        .execute(pool)
        .await?
        .rows_affected());
    if inserted == 0 {
        return Err(UserError::Exists(email));
    }
    Ok(created)
}

/// How many users exist.
pub async fn count(db: &Database) -> Result<u64, UserError> {
    let n: i64 = on_pool!(db, pool => sqlx::query_scalar("SELECT COUNT(*) FROM users").fetch_one(pool).await?);
    Ok(n as u64)
}

/// A hash to check against when the email is unknown, so that answer takes as long as a
/// wrong password.
static DUMMY_HASH: LazyLock<String> = LazyLock::new(|| password::hash("no such user, ever"));

/// The user whose email and password these are; [`UserError::BadCredentials`] for an unknown
/// email or a wrong password alike, [`UserError::Disabled`] for a disabled account.
pub async fn authenticate(db: &Database, email: &str, password: &str) -> Result<User, UserError> {
    let email = email.trim().to_lowercase();
    let sql = format!("SELECT {COLUMNS}, password_hash FROM users WHERE email = $1");
    let found: Option<(String, String, String, bool, i64, String)> =
        on_pool!(db, pool => sqlx::query_as(&sql).bind(&email).fetch_optional(pool).await?);
    let Some((id, email, role, disabled, created_at_ms, hash)) = found else {
        password::verify(password, &DUMMY_HASH);
        return Err(UserError::BadCredentials);
    };
    if !password::verify(password, &hash) {
        return Err(UserError::BadCredentials);
    }
    if disabled {
        return Err(UserError::Disabled);
    }
    Ok(user((id, email, role, disabled, created_at_ms)))
}

/// The user with this email (any case).
pub async fn by_email(db: &Database, email: &str) -> Result<Option<User>, UserError> {
    let email = normalise_email(email)?;
    let sql = format!("SELECT {COLUMNS} FROM users WHERE email = $1");
    let row: Option<Row> =
        on_pool!(db, pool => sqlx::query_as(&sql).bind(&email).fetch_optional(pool).await?);
    Ok(row.map(user))
}

/// The user with this id.
pub async fn by_id(db: &Database, id: &str) -> Result<Option<User>, UserError> {
    let sql = format!("SELECT {COLUMNS} FROM users WHERE id = $1");
    let row: Option<Row> =
        on_pool!(db, pool => sqlx::query_as(&sql).bind(id).fetch_optional(pool).await?);
    Ok(row.map(user))
}

/// Every user, oldest first.
pub async fn list(db: &Database) -> Result<Vec<User>, UserError> {
    let sql = format!("SELECT {COLUMNS} FROM users ORDER BY created_at_ms, id");
    let rows: Vec<Row> = on_pool!(db, pool => sqlx::query_as(&sql).fetch_all(pool).await?);
    Ok(rows.into_iter().map(user).collect())
}

/// Sets a new password (it must pass [`password::acceptable`]).
pub async fn set_password(db: &Database, id: &str, password: &str) -> Result<(), UserError> {
    password::acceptable(password)?;
    let hash = password::hash(password);
    let done = on_pool!(db, pool => sqlx::query("UPDATE users SET password_hash = $2 WHERE id = $1")
        .bind(id)
        .bind(&hash)
        .execute(pool)
        .await?
        .rows_affected());
    if done == 0 {
        return Err(UserError::NotFound(id.to_owned()));
    }
    Ok(())
}

/// Gives user `id` another role.
pub async fn set_role(db: &Database, id: &str, role: Role) -> Result<(), UserError> {
    let done = on_pool!(db, pool => sqlx::query("UPDATE users SET role = $2 WHERE id = $1")
        .bind(id)
        .bind(role.as_str())
        .execute(pool)
        .await?
        .rows_affected());
    if done == 0 {
        return Err(UserError::NotFound(id.to_owned()));
    }
    Ok(())
}

/// Changes a user's own password: the current one must be right first.
pub async fn change_password(
    db: &Database,
    id: &str,
    current: &str,
    new: &str,
) -> Result<(), UserError> {
    let sql = "SELECT password_hash FROM users WHERE id = $1";
    let hash: Option<String> =
        on_pool!(db, pool => sqlx::query_scalar(sql).bind(id).fetch_optional(pool).await?);
    let hash = hash.ok_or_else(|| UserError::NotFound(id.to_owned()))?;
    if !password::verify(current, &hash) {
        return Err(UserError::WrongPassword);
    }
    set_password(db, id, new).await
}

/// Disables or re-enables an account. A disabled account cannot log in or refresh.
pub async fn set_disabled(db: &Database, id: &str, disabled: bool) -> Result<(), UserError> {
    let done = on_pool!(db, pool => sqlx::query("UPDATE users SET disabled = $2 WHERE id = $1")
        .bind(id)
        .bind(disabled)
        .execute(pool)
        .await?
        .rows_affected());
    if done == 0 {
        return Err(UserError::NotFound(id.to_owned()));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn emails_are_normalised_and_checked() {
        assert_eq!(
            normalise_email("  Ada@Example.COM ").unwrap(),
            "ada@example.com"
        );
        assert_eq!(normalise_email("\tada@b@c\r\n").unwrap(), "ada@b@c");
        let long = format!("{}@example.com", "a".repeat(MAX_EMAIL_CHARS));
        for bad in [
            "",
            "ada",
            "@example.com",
            "ada@",
            "a da@example.com",
            // Not ASCII whitespace: refused, not trimmed (the API document's pattern agrees).
            "\u{2003}ada@example.com",
            "ada@example.com\u{85}",
            "\u{feff}ada@example.com",
            "ada@exa\u{7}mple.com",
            &long,
        ] {
            assert!(
                matches!(normalise_email(bad), Err(UserError::BadEmail(_))),
                "{bad}"
            );
        }
    }
}
