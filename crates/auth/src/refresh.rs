//! Refresh tokens: opaque `ID.SECRET` strings (the secret stored only as a BLAKE3 hash),
//! valid for 30 days, used once. Each use rotates: the presented token is marked used and a
//! new one in the same family is returned. Presenting a token that was already used means
//! it was copied: the whole family is revoked at once, and the thief and the victim both
//! have to log in again.

use std::time::Duration;

use switchyard_db::Database;

use crate::users::{self, User};

/// How long a refresh token lasts.
pub const REFRESH_TTL: Duration = Duration::from_secs(30 * 24 * 3_600);

/// Why a refresh was refused.
#[derive(Debug, thiserror::Error)]
pub enum RefreshError {
    #[error("the refresh token is not valid")]
    Invalid,
    #[error("the refresh token was already used; its family is revoked")]
    Reused,
    #[error("this account is disabled")]
    Disabled,
    #[error("the database failed: {0}")]
    Db(#[from] sqlx::Error),
}

impl From<users::UserError> for RefreshError {
    fn from(e: users::UserError) -> Self {
        match e {
            users::UserError::Db(e) => Self::Db(e),
            _ => Self::Invalid,
        }
    }
}

fn secret_hash(secret: &str) -> Vec<u8> {
    blake3::hash(secret.as_bytes()).as_bytes().to_vec()
}

async fn insert(
    db: &Database,
    family: &str,
    user_id: &str,
    now_ms: i64,
) -> Result<String, sqlx::Error> {
    let id = uuid::Uuid::now_v7().simple().to_string();
    let secret = crate::random::token(32);
    const SQL: &str = "INSERT INTO refresh_tokens (id, family, user_id, secret_hash, expires_at_ms) \
                       VALUES ($1, $2, $3, $4, $5)";
    let expires = now_ms + REFRESH_TTL.as_millis() as i64;
    on_pool!(db, pool => {
        sqlx::query(SQL)
            .bind(&id)
            .bind(family)
            .bind(user_id)
            .bind(secret_hash(&secret))
            .bind(expires)
            .execute(pool)
            .await?;
    });
    Ok(format!("{id}.{secret}"))
}

/// A new family (a login) for `user_id`; its first token.
pub async fn start(db: &Database, user_id: &str) -> Result<String, sqlx::Error> {
    let family = uuid::Uuid::now_v7().simple().to_string();
    insert(db, &family, user_id, crate::now_ms()).await
}

/// How long after a browser's refresh cookie was exchanged the same cookie still signs its
/// requests in ([`renew`]): a page that fires several requests at once, after its access
/// cookie expired, presents the same refresh cookie with each.
pub const BROWSER_REUSE_GRACE_MS: i64 = 30_000;

/// Exchanges a valid, unused token for the next one in its family, with the user it belongs
/// to. A reused token revokes its family ([`RefreshError::Reused`]).
pub async fn rotate(db: &Database, presented: &str) -> Result<(User, String), RefreshError> {
    let (user, next) = exchange(db, presented, 0).await?;
    Ok((user, next.ok_or(RefreshError::Reused)?))
}

/// [`rotate`] for a browser's refresh cookie: a token exchanged less than
/// [`BROWSER_REUSE_GRACE_MS`] ago by a request beside this one still names its user, with no
/// next token (`None`: that request's answer carries it); later, a reuse revokes the family
/// as in [`rotate`].
pub async fn renew(db: &Database, presented: &str) -> Result<(User, Option<String>), RefreshError> {
    exchange(db, presented, BROWSER_REUSE_GRACE_MS).await
}

async fn exchange(
    db: &Database,
    presented: &str,
    grace_ms: i64,
) -> Result<(User, Option<String>), RefreshError> {
    let now = crate::now_ms();
    let (id, secret) = presented.split_once('.').ok_or(RefreshError::Invalid)?;
    type Row = (String, String, Vec<u8>, i64, Option<i64>, Option<i64>);
    const SQL: &str = "SELECT family, user_id, secret_hash, expires_at_ms, used_at_ms, \
                       revoked_at_ms FROM refresh_tokens WHERE id = $1";
    let read = || async {
        let row: Option<Row> =
            on_pool!(db, pool => sqlx::query_as(SQL).bind(id).fetch_optional(pool).await?);
        Ok::<_, RefreshError>(row)
    };
    let Some((family, user_id, hash, expires_at_ms, used_at_ms, revoked_at_ms)) = read().await?
    else {
        return Err(RefreshError::Invalid);
    };
    if hash != secret_hash(secret) || revoked_at_ms.is_some() || expires_at_ms <= now {
        return Err(RefreshError::Invalid);
    }
    // Mark it used only if nobody did first: of two racing uses, exactly one rotates.
    const USE: &str = "UPDATE refresh_tokens SET used_at_ms = $2 WHERE id = $1 \
                       AND used_at_ms IS NULL AND revoked_at_ms IS NULL";
    let claimed = if used_at_ms.is_none() {
        on_pool!(db, pool => sqlx::query(USE).bind(id).bind(now).execute(pool).await?.rows_affected())
    } else {
        0
    };
    if claimed == 0 {
        // Used already: by a request beside this one (within the grace), or by a thief.
        let used_lately = match read().await? {
            Some((_, _, _, _, Some(used_at), None)) => now - used_at < grace_ms,
            _ => false,
        };
        if !used_lately {
            revoke_family(db, &family).await?;
            tracing::warn!(%family, "a used refresh token was presented again; family revoked");
            return Err(RefreshError::Reused);
        }
    }
    let user = users::by_id(db, &user_id)
        .await?
        .ok_or(RefreshError::Invalid)?;
    if user.disabled {
        revoke_family(db, &family).await?;
        return Err(RefreshError::Disabled);
    }
    if claimed == 0 {
        return Ok((user, None));
    }
    let next = insert(db, &family, &user_id, now).await?;
    Ok((user, Some(next)))
}

/// Revokes every token of `family`.
pub async fn revoke_family(db: &Database, family: &str) -> Result<(), sqlx::Error> {
    const SQL: &str = "UPDATE refresh_tokens SET revoked_at_ms = $2 WHERE family = $1 \
                       AND revoked_at_ms IS NULL";
    on_pool!(db, pool => {
        sqlx::query(SQL).bind(family).bind(crate::now_ms()).execute(pool).await?;
    });
    Ok(())
}

/// Logs out: revokes the family of the presented token (whatever state it is in).
pub async fn revoke(db: &Database, presented: &str) -> Result<(), sqlx::Error> {
    let Some((id, _)) = presented.split_once('.') else {
        return Ok(());
    };
    const SQL: &str = "SELECT family FROM refresh_tokens WHERE id = $1";
    let family: Option<String> =
        on_pool!(db, pool => sqlx::query_scalar(SQL).bind(id).fetch_optional(pool).await?);
    if let Some(family) = family {
        revoke_family(db, &family).await?;
    }
    Ok(())
}

/// Revokes every token of a user (password changed, account disabled).
pub async fn revoke_user(db: &Database, user_id: &str) -> Result<(), sqlx::Error> {
    const SQL: &str = "UPDATE refresh_tokens SET revoked_at_ms = $2 WHERE user_id = $1 \
                       AND revoked_at_ms IS NULL";
    on_pool!(db, pool => {
        sqlx::query(SQL).bind(user_id).bind(crate::now_ms()).execute(pool).await?;
    });
    Ok(())
}
