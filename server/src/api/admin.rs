//! `/api/v1/admin`: accounts, API keys, kill switches and the audit log over HTTP, for the
//! admin pages and for automation. Each route needs its admin permission (`ManageUsers`,
//! `ManageKeys`, `KillSwitch`, `ReadAudit`); every change is audited with its outcome.

use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use serde::Deserialize;
use switchyard_auth::admin::{self, AdminError, KeyRequest};
use switchyard_auth::api_keys::{self, ApiKey};
use switchyard_auth::audit::{self, Verdict};
use switchyard_auth::kill::{Capability, KillSwitches, Switch};
use switchyard_auth::projects;
use switchyard_auth::users::{self, User};
use switchyard_auth::{Permission, Role};

use crate::api::error::ApiError;
use crate::api::json::ApiJson;
use crate::api::principal::{Caller, Principal};
use switchyard_service::Access;

fn internal(e: &dyn std::fmt::Display) -> ApiError {
    ApiError::internal(e)
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewUser {
    pub email: String,
    /// Omitted: one is generated and returned once.
    pub password: Option<String>,
    pub role: String,
    /// The projects the account joins (default: `default`).
    #[serde(default)]
    pub projects: Vec<String>,
}

/// An admin operation's refusal in the API's shape.
fn refused(e: AdminError) -> ApiError {
    match e {
        AdminError::Invalid(m) => ApiError::bad_request(m),
        AdminError::Exists(m) => ApiError::new(StatusCode::CONFLICT, "conflict", m),
        AdminError::NotFound(m) => ApiError::new(StatusCode::NOT_FOUND, "not_found", m),
        AdminError::Db(e) => internal(&e),
    }
}

/// Every account.
pub async fn list_users(
    Caller(who): Caller,
    State(auth): State<Access>,
) -> Result<Json<Vec<User>>, ApiError> {
    who.require(Permission::ManageUsers).await?;
    Ok(Json(users::list(&auth.db).await.map_err(|e| internal(&e))?))
}

/// Creates an account: 201 `{"user", "password"}` (the password only when it was generated),
/// 400 for a bad email, role or password, 404 for an unknown project, 409 when it exists.
pub async fn create_user(
    Caller(who): Caller,
    State(auth): State<Access>,
    ApiJson(new): ApiJson<NewUser>,
) -> Result<(StatusCode, Json<serde_json::Value>), ApiError> {
    who.require(Permission::ManageUsers).await?;
    let invited = admin::invite_user(
        &auth.db,
        &new.email,
        &new.role,
        new.password.as_deref(),
        &new.projects,
    )
    .await;
    match invited {
        Ok((user, password)) => {
            who.record("users.create", &user.id, "ok").await;
            let password = new.password.is_none().then_some(password);
            Ok((
                StatusCode::CREATED,
                Json(serde_json::json!({"user": user, "password": password})),
            ))
        }
        Err(e) => {
            who.record("users.create", &new.email, &format!("failed: {e}"))
                .await;
            Err(refused(e))
        }
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewRole {
    pub role: String,
}

/// Gives an account another role: 204; 400 for an unknown role, 404 for an unknown user.
pub async fn set_role(
    Caller(who): Caller,
    State(auth): State<Access>,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<NewRole>,
) -> Result<StatusCode, ApiError> {
    who.require(Permission::ManageUsers).await?;
    let role = Role::parse(&body.role).map_err(ApiError::bad_request)?;
    let done = users::set_role(&auth.db, &id, role).await;
    let result = done.as_ref().map_or_else(
        |e| format!("failed: {e}"),
        |()| format!("ok: {}", role.as_str()),
    );
    who.record("users.set_role", &id, &result).await;
    done.map_err(|e| refused(e.into()))?;
    Ok(StatusCode::NO_CONTENT)
}

/// Every project and its members.
pub async fn list_projects(
    Caller(who): Caller,
    State(auth): State<Access>,
) -> Result<Json<Vec<projects::Project>>, ApiError> {
    who.require(Permission::ManageUsers).await?;
    Ok(Json(
        projects::list(&auth.db)
            .await
            .map_err(|e| refused(e.into()))?,
    ))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewProject {
    pub name: String,
}

/// Creates a project: 201; 400 for a bad name, 409 when it exists.
pub async fn create_project(
    Caller(who): Caller,
    State(auth): State<Access>,
    ApiJson(body): ApiJson<NewProject>,
) -> Result<StatusCode, ApiError> {
    who.require(Permission::ManageUsers).await?;
    let done = projects::create(&auth.db, &body.name, &who.name).await;
    let result = done
        .as_ref()
        .map_or_else(|e| format!("failed: {e}"), |()| "ok".into());
    who.record("projects.create", &body.name, &result).await;
    done.map_err(|e| refused(e.into()))?;
    Ok(StatusCode::CREATED)
}

/// Adds (`PUT`) or removes (`DELETE`) a member: 204; 404 for an unknown project or user.
pub async fn add_member(
    Caller(who): Caller,
    State(auth): State<Access>,
    Path((project, user)): Path<(String, String)>,
) -> Result<StatusCode, ApiError> {
    who.require(Permission::ManageUsers).await?;
    let done = projects::add_member(&auth.db, &project, &user).await;
    let result = done
        .as_ref()
        .map_or_else(|e| format!("failed: {e}"), |()| "ok".into());
    who.record("projects.add_member", &format!("{project}/{user}"), &result)
        .await;
    done.map_err(|e| refused(e.into()))?;
    Ok(StatusCode::NO_CONTENT)
}

/// See [`add_member`].
pub async fn remove_member(
    Caller(who): Caller,
    State(auth): State<Access>,
    Path((project, user)): Path<(String, String)>,
) -> Result<StatusCode, ApiError> {
    who.require(Permission::ManageUsers).await?;
    let done = projects::remove_member(&auth.db, &project, &user).await;
    let result = done
        .as_ref()
        .map_or_else(|e| format!("failed: {e}"), |()| "ok".into());
    who.record(
        "projects.remove_member",
        &format!("{project}/{user}"),
        &result,
    )
    .await;
    done.map_err(|e| refused(e.into()))?;
    Ok(StatusCode::NO_CONTENT)
}

async fn set_disabled(
    who: &Principal,
    auth: &Access,
    id: &str,
    disabled: bool,
) -> Result<StatusCode, ApiError> {
    who.require(Permission::ManageUsers).await?;
    let action = if disabled {
        "users.disable"
    } else {
        "users.enable"
    };
    let by = match &who.identity {
        crate::api::principal::Identity::User { id, .. } => Some(id.as_str()),
        _ => None,
    };
    admin::set_disabled(&auth.db, id, disabled, by)
        .await
        .map_err(refused)?;
    who.record(action, id, "ok").await;
    Ok(StatusCode::NO_CONTENT)
}

/// Disables an account and ends its logins at once.
pub async fn disable_user(
    Caller(who): Caller,
    State(auth): State<Access>,
    Path(id): Path<String>,
) -> Result<StatusCode, ApiError> {
    set_disabled(&who, &auth, &id, true).await
}

/// Re-enables an account.
pub async fn enable_user(
    Caller(who): Caller,
    State(auth): State<Access>,
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
    Caller(who): Caller,
    State(auth): State<Access>,
) -> Result<Json<Vec<ApiKey>>, ApiError> {
    who.require(Permission::ManageKeys).await?;
    Ok(Json(
        api_keys::list(&auth.db).await.map_err(|e| internal(&e))?,
    ))
}

/// Creates a key: 201 `{"key", "secret"}`; the secret is in this answer only.
pub async fn create_key(
    Caller(who): Caller,
    State(auth): State<Access>,
    ApiJson(new): ApiJson<CreateKey>,
) -> Result<(StatusCode, Json<serde_json::Value>), ApiError> {
    who.require(Permission::ManageKeys).await?;
    let request = KeyRequest {
        name: &new.name,
        project: &new.project,
        scopes: &new.scopes.join(","),
        rate_per_min: new.rate_per_min,
        max_concurrency: new.max_concurrency,
    };
    let (key, secret) = match admin::issue_key(&auth.db, &request, &who.name).await {
        Ok(issued) => issued,
        Err(e) => {
            who.record("keys.create", &new.name, &format!("failed: {e}"))
                .await;
            return Err(refused(e));
        }
    };
    who.record("keys.create", &key.id, "ok").await;
    Ok((
        StatusCode::CREATED,
        Json(serde_json::json!({ "key": key, "secret": secret })),
    ))
}

/// Revokes a key at once: 204, or 404 when there is no live key with this id.
pub async fn revoke_key(
    Caller(who): Caller,
    State(auth): State<Access>,
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
    Caller(who): Caller,
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
    Caller(who): Caller,
    State(switches): State<KillSwitches>,
    Path(name): Path<String>,
    ApiJson(body): ApiJson<SwitchOff>,
) -> Result<StatusCode, ApiError> {
    who.require(Permission::KillSwitch).await?;
    let capability = capability(&name)?;
    admin::set_switch(&switches, capability, Some(&body.reason), &who.name)
        .await
        .map_err(refused)?;
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
    Caller(who): Caller,
    State(switches): State<KillSwitches>,
    Path(name): Path<String>,
) -> Result<StatusCode, ApiError> {
    who.require(Permission::KillSwitch).await?;
    let capability = capability(&name)?;
    admin::set_switch(&switches, capability, None, &who.name)
        .await
        .map_err(refused)?;
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
    Caller(who): Caller,
    State(auth): State<Access>,
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
    Caller(who): Caller,
    State(auth): State<Access>,
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
