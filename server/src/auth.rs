//! Identity on the server: the token keys (from `jwt_secret`, or the data dir's generated
//! secret) and the access rules built from them ([`Access`]), the first admin from
//! `SWITCHYARD_ADMIN_EMAIL` / `SWITCHYARD_ADMIN_PASSWORD` on an empty database, and where a
//! request comes from ([`Peer`], for the audit log).

use std::net::SocketAddr;

use axum::extract::{ConnectInfo, FromRequestParts};
use axum::http::request::Parts;
use switchyard_auth::{Role, TokenKeys, audit, users};
use switchyard_db::Database;
use switchyard_service::{Access, Client};

use crate::config::{Config, FirstAdmin, Secret};

/// Loads or generates the signing secret and creates the first admin when asked to. The
/// error is one line.
pub async fn prepare(config: &Config, db: &Database) -> Result<Access, String> {
    let secret = switchyard_auth::secret::load_or_generate(
        config.jwt_secret.as_ref().map(|Secret(s)| s.as_str()),
        &config.data_dir,
    )?;
    let keys = TokenKeys::new(&secret).map_err(|e| e.to_string())?;
    bootstrap_admin(db, config.first_admin.as_ref()).await?;
    if config.auth_required && users::count(db).await.map_err(|e| e.to_string())? == 0 {
        tracing::warn!(
            "no account yet: open http://{}/setup to create the first admin",
            config.listen
        );
    }
    Ok(Access {
        db: db.clone(),
        keys,
        required: config.auth_required,
        limiter: Default::default(),
        user_limits: config.user_limits,
    })
}

/// Creates an admin from the environment when there are no users yet (containers, CI);
/// ignored once any user exists.
async fn bootstrap_admin(db: &Database, first: Option<&FirstAdmin>) -> Result<(), String> {
    let Some(FirstAdmin {
        email,
        password: Secret(password),
    }) = first
    else {
        return Ok(());
    };
    if users::count(db).await.map_err(|e| e.to_string())? > 0 {
        return Ok(());
    }
    let admin = users::create(db, email, password, Role::Admin)
        .await
        .map_err(|e| format!("cannot create the admin from SWITCHYARD_ADMIN_EMAIL: {e}"))?;
    audit::append(
        db,
        &audit::Entry {
            actor: "system".into(),
            action: "users.bootstrap".into(),
            target: admin.id.clone(),
            result: "ok".into(),
            ip: String::new(),
            user_agent: String::new(),
        },
    )
    .await
    .map_err(|e| format!("cannot write the audit log: {e}"))?;
    tracing::info!(email = %admin.email, "created the first admin from the environment");
    Ok(())
}

/// Where a request comes from: the peer address (never a forwarded header, which anyone
/// can write) and its user agent.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Peer(pub Client);

impl Peer {
    pub fn of(parts: &Parts) -> Client {
        let ip = parts
            .extensions
            .get::<ConnectInfo<SocketAddr>>()
            .map(|ConnectInfo(addr)| addr.ip().to_string())
            .unwrap_or_default();
        let user_agent = parts
            .headers
            .get(axum::http::header::USER_AGENT)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .chars()
            .take(256)
            .collect();
        Client { ip, user_agent }
    }
}

impl<S: Send + Sync> FromRequestParts<S> for Peer {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        Ok(Self(Self::of(parts)))
    }
}
