//! `/api/v1/admin`: accounts, API keys, kill switches and the audit log over HTTP, for the
//! admin pages and for automation. Each route needs its admin permission (`ManageUsers`,
//! `ManageKeys`, `KillSwitch`, `ReadAudit`); every change is audited with its outcome.

use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use serde::Deserialize;
use switchyard_auth::api_keys::{self, ApiKey, NewKey, Scope};
use switchyard_auth::audit::{self, Verdict};
use switchyard_auth::kill::{Capability, KillSwitches, Switch};
use switchyard_auth::users::{self, User, UserError};
use switchyard_auth::{Permission, Role, refresh};

use crate::api::error::ApiError;
use crate::api::json::ApiJson;
use crate::api::principal::Principal;
use crate::auth::AuthState;

fn internal(e: &dyn std::fmt::Display) -> ApiError {
    ApiError::internal(e)
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewUser {
    pub email: String,
    pub password: String,
    pub role: String,
}

/// Every account.
pub async fn list_users(
    who: Principal,
    State(auth): State<AuthState>,
) -> Result<Json<Vec<User>>, ApiError> {
    who.require(Permission::ManageUsers).await?;
    Ok(Json(users::list(&auth.db).await.map_err(|e| internal(&e))?))
}

/// Creates an account: 201, 400 for a bad email, role or password, 409 when it exists.
pub async fn create_user(
    who: Principal,
    State(auth): State<AuthState>,
    ApiJson(new): ApiJson<NewUser>,
) -> Result<(StatusCode, Json<User>), ApiError> {
    who.require(Permission::ManageUsers).await?;
    let role = Role::parse(&new.role).map_err(ApiError::bad_request)?;
    match users::create(&auth.db, &new.email, &new.password, role).await {
        Ok(user) => {
            who.record("users.create", &user.id, "ok").await;
            Ok((StatusCode::CREATED, Json(user)))
        }
        Err(e) => {
            who.record("users.create", &new.email, &format!("failed: {e}"))
                .await;
            Err(match e {
                UserError::Exists(_) => {
                    ApiError::new(StatusCode::CONFLICT, "conflict", e.to_string())
                }
                UserError::Db(e) => internal(&e),
                other => ApiError::bad_request(other.to_string()),
            })
        }
    }
}

async fn set_disabled(
    who: &Principal,
    auth: &AuthState,
    id: &str,
    disabled: bool,
) -> Result<StatusCode, ApiError> {
    who.require(Permission::ManageUsers).await?;
    let action = if disabled {
        "users.disable"
    } else {
        "users.enable"
    };
    match users::set_disabled(&auth.db, id, disabled).await {
        Ok(()) => {
            if disabled {
                refresh::revoke_user(&auth.db, id)
                    .await
                    .map_err(|e| internal(&e))?;
            }
            who.record(action, id, "ok").await;
            Ok(StatusCode::NO_CONTENT)
        }
        Err(UserError::NotFound(_)) => Err(ApiError::new(
            StatusCode::NOT_FOUND,
            "not_found",
            format!("user {id} not found"),
        )),
        Err(e) => Err(internal(&e)),
    }
}

/// Disables an account and ends its logins at once.
pub async fn disable_user(
    who: Principal,
    State(auth): State<AuthState>,
    Path(id): Path<String>,
) -> Result<StatusCode, ApiError> {
    set_disabled(&who, &auth, &id, true).await
}

/// Re-enables an account.
pub async fn enable_user(
    who: Principal,
    State(auth): State<AuthState>,
    Path(id): Path<String>,
) -> Result<StatusCode, ApiError> {
    set_disabled(&who, &auth, &id, false).await
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CreateKey {
    pub name: String,
    pub scopes: Vec<String>,
    #[serde(default = "default_project")]
    pub project: String,
    #[serde(default = "default_rate")]
    pub rate_per_min: u32,
    #[serde(default = "default_concurrency")]
    pub max_concurrency: u32,
}

fn default_project() -> String {
    "default".into()
}
fn default_rate() -> u32 {
    600
}
fn default_concurrency() -> u32 {
    8
}

/// Every key (never a secret).
pub async fn list_keys(
    who: Principal,
    State(auth): State<AuthState>,
) -> Result<Json<Vec<ApiKey>>, ApiError> {
    who.require(Permission::ManageKeys).await?;
    Ok(Json(
        api_keys::list(&auth.db).await.map_err(|e| internal(&e))?,
    ))
}

/// Creates a key: 201 `{"key", "secret"}`; the secret is in this answer only.
pub async fn create_key(
    who: Principal,
    State(auth): State<AuthState>,
    ApiJson(new): ApiJson<CreateKey>,
) -> Result<(StatusCode, Json<serde_json::Value>), ApiError> {
    who.require(Permission::ManageKeys).await?;
    let scopes = Scope::parse_list(&new.scopes.join(",")).map_err(ApiError::bad_request)?;
    if new.name.trim().is_empty() {
        return Err(ApiError::bad_request("name must not be empty"));
    }
    if new.rate_per_min == 0 || new.max_concurrency == 0 {
        return Err(ApiError::bad_request(
            "rate_per_min and max_concurrency must be at least 1",
        ));
    }
    let (key, secret) = api_keys::create(
        &auth.db,
        &NewKey {
            name: new.name.trim(),
            project: &new.project,
            scopes: &scopes,
            rate_per_min: new.rate_per_min,
            max_concurrency: new.max_concurrency,
            created_by: &who.name,
        },
    )
    .await
    .map_err(|e| internal(&e))?;
    who.record("keys.create", &key.id, "ok").await;
    Ok((
        StatusCode::CREATED,
        Json(serde_json::json!({ "key": key, "secret": secret })),
    ))
}

/// Revokes a key at once: 204, or 404 when there is no live key with this id.
pub async fn revoke_key(
    who: Principal,
    State(auth): State<AuthState>,
    Path(id): Path<String>,
) -> Result<StatusCode, ApiError> {
    who.require(Permission::ManageKeys).await?;
    if !api_keys::revoke(&auth.db, &id)
        .await
        .map_err(|e| internal(&e))?
    {
        return Err(ApiError::new(
            StatusCode::NOT_FOUND,
            "not_found",
            format!("no live key with id {id}"),
        ));
    }
    who.record("keys.revoke", &id, "ok").await;
    Ok(StatusCode::NO_CONTENT)
}

/// The capabilities that are off.
pub async fn list_switches(
    who: Principal,
    State(switches): State<KillSwitches>,
) -> Result<Json<Vec<Switch>>, ApiError> {
    who.require(Permission::KillSwitch).await?;
    Ok(Json(switches.list().await.map_err(|e| internal(&e))?))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SwitchOff {
    pub reason: String,
}

fn capability(name: &str) -> Result<Capability, ApiError> {
    Capability::parse(name).map_err(|e| ApiError::new(StatusCode::NOT_FOUND, "not_found", e))
}

/// Turns a capability off for every server, with a reason: 204.
pub async fn switch_off(
    who: Principal,
    State(switches): State<KillSwitches>,
    Path(name): Path<String>,
    ApiJson(body): ApiJson<SwitchOff>,
) -> Result<StatusCode, ApiError> {
    who.require(Permission::KillSwitch).await?;
    let capability = capability(&name)?;
    if body.reason.trim().is_empty() {
        return Err(ApiError::bad_request(
            "reason must say why (it is shown to every refused caller)",
        ));
    }
    switches
        .switch_off(capability, body.reason.trim(), &who.name)
        .await
        .map_err(|e| internal(&e))?;
    who.record(
        "switch.off",
        capability.as_str(),
        &format!("ok: {}", body.reason.trim()),
    )
    .await;
    Ok(StatusCode::NO_CONTENT)
}

/// Turns a capability back on: 204.
pub async fn switch_on(
    who: Principal,
    State(switches): State<KillSwitches>,
    Path(name): Path<String>,
) -> Result<StatusCode, ApiError> {
    who.require(Permission::KillSwitch).await?;
    let capability = capability(&name)?;
    switches
        .switch_on(capability)
        .await
        .map_err(|e| internal(&e))?;
    who.record("switch.on", capability.as_str(), "ok").await;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Debug, Deserialize)]
pub struct AuditQuery {
    #[serde(default)]
    pub after: i64,
    pub limit: Option<i64>,
    pub actor: Option<String>,
    pub action: Option<String>,
}

/// Audit entries after `after`, oldest first (at most `limit`, default 100, up to 1,000),
/// optionally one actor's or one action's.
pub async fn audit_log(
    who: Principal,
    State(auth): State<AuthState>,
    Query(query): Query<AuditQuery>,
) -> Result<Json<Vec<audit::Row>>, ApiError> {
    who.require(Permission::ReadAudit).await?;
    let limit = query.limit.unwrap_or(100);
    if !(1..=1_000).contains(&limit) {
        return Err(ApiError::bad_request("limit must be between 1 and 1000"));
    }
    let rows = audit::list(
        &auth.db,
        query.after,
        limit,
        query.actor.as_deref(),
        query.action.as_deref(),
    )
    .await
    .map_err(|e| internal(&e))?;
    Ok(Json(rows))
}

/// Walks the chain: `{"intact": true, "rows"}` or `{"intact": false, "problem"}`.
pub async fn audit_verify(
    who: Principal,
    State(auth): State<AuthState>,
) -> Result<Json<serde_json::Value>, ApiError> {
    who.require(Permission::ReadAudit).await?;
    let verdict = audit::verify(&auth.db).await.map_err(|e| internal(&e))?;
    Ok(Json(match verdict {
        Verdict::Intact { rows } => serde_json::json!({"intact": true, "rows": rows}),
        Verdict::Edited { seq } => serde_json::json!({
            "intact": false, "problem": format!("row {seq} was changed after it was written")
        }),
        Verdict::Gap { after, next } => serde_json::json!({
            "intact": false, "problem": format!("rows are missing after row {after} (next present: {next})")
        }),
    }))
}
