//! `/api/v1/admin`: accounts, API keys, kill switches and the audit log over HTTP, for
//! automation. Each handler reads the request and calls its use case in
//! [`switchyard_service::admin`] (the admin page's server functions call the same ones),
//! which checks the admin permission (`ManageUsers`, `ManageKeys`, `KillSwitch`,
//! `ReadAudit`) and audits every change with its outcome.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use serde::Deserialize;
use switchyard_auth::admin::KeyRequest;
use switchyard_auth::api_keys::ApiKey;
use switchyard_auth::audit::{self, Verdict};
use switchyard_auth::kill::Switch;
use switchyard_auth::projects;
use switchyard_protocol::api::admin::{
    CapabilityName, CreateKey, NewProject, NewRole, NewUser, SCOPES, SwitchOff, UserCreated,
    UserView,
};
use switchyard_service::Service;
use switchyard_service::admin::AuditQuery;

use crate::api::auth::user_view;
use crate::api::error::ApiError;
use crate::api::json::ApiJson;
use crate::api::principal::Caller;
use crate::api::query::ApiQuery;

/// Every account.
#[utoipa::path(get, path = "/api/v1/admin/users", tag = "admin",
    responses(
        (status = 200, description = "Every account", body = Vec<UserView>),
        crate::api::error::Refusals
    ))]
pub async fn list_users(
    Caller(who): Caller,
    State(service): State<Service>,
) -> Result<Json<Vec<UserView>>, ApiError> {
    let users = service.users(&who).await?;
    Ok(Json(users.into_iter().map(user_view).collect()))
}

/// Creates an account: 201 `{"user", "password"}` (the password only when it was generated),
/// 400 for a bad email, role or password, 404 for an unknown project, 409 when it exists.
#[utoipa::path(post, path = "/api/v1/admin/users", tag = "admin", request_body = NewUser,
    responses(
        (status = 201, description = "Created; the password only when it was generated", body = UserCreated),
        (status = 400, description = "Malformed JSON, or an input that breaks a rule (named in the message)", body = crate::api::error::ErrorBody),
        (status = 404, description = "An unknown project", body = crate::api::error::ErrorBody),
        (status = 409, description = "The email is taken", body = crate::api::error::ErrorBody),
        crate::api::error::Refusals,
        crate::api::error::BodyRefusals
    ))]
pub async fn create_user(
    Caller(who): Caller,
    State(service): State<Service>,
    ApiJson(new): ApiJson<NewUser>,
) -> Result<(StatusCode, Json<UserCreated>), ApiError> {
    let (user, password) = service
        .invite_user(
            &who,
            &new.email,
            &new.role,
            new.password.as_deref(),
            &new.projects,
        )
        .await?;
    let password = new.password.is_none().then_some(password);
    Ok((
        StatusCode::CREATED,
        Json(UserCreated {
            user: user_view(user),
            password,
        }),
    ))
}

/// Gives an account another role: 204; 400 for an unknown role, 403 for the caller's own
/// account, 404 for an unknown user.
#[utoipa::path(put, path = "/api/v1/admin/users/{id}/role", tag = "admin", params(("id" = String, Path, description = "User id")), request_body = NewRole,
    responses(
        (status = 204, description = "Changed"),
        (status = 400, description = "Malformed JSON, or an input that breaks a rule (named in the message)", body = crate::api::error::ErrorBody),
        (status = 404, description = "No such user", body = crate::api::error::ErrorBody),
        crate::api::error::Refusals,
        crate::api::error::BodyRefusals
    ))]
pub async fn set_role(
    Caller(who): Caller,
    State(service): State<Service>,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<NewRole>,
) -> Result<StatusCode, ApiError> {
    service.set_role(&who, &id, &body.role).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Every project and its members.
#[utoipa::path(get, path = "/api/v1/admin/projects", tag = "admin",
    responses(
        (status = 200, description = "Every project and its members", body = Vec<Object>),
        crate::api::error::Refusals
    ))]
pub async fn list_projects(
    Caller(who): Caller,
    State(service): State<Service>,
) -> Result<Json<Vec<projects::Project>>, ApiError> {
    Ok(Json(service.projects(&who).await?))
}

/// Creates a project: 201; 400 for a bad name, 409 when it exists.
#[utoipa::path(post, path = "/api/v1/admin/projects", tag = "admin", request_body = NewProject,
    responses(
        (status = 201, description = "Created"),
        (status = 400, description = "Malformed JSON, or an input that breaks a rule (named in the message)", body = crate::api::error::ErrorBody),
        (status = 409, description = "The project exists", body = crate::api::error::ErrorBody),
        crate::api::error::Refusals,
        crate::api::error::BodyRefusals
    ))]
pub async fn create_project(
    Caller(who): Caller,
    State(service): State<Service>,
    ApiJson(body): ApiJson<NewProject>,
) -> Result<StatusCode, ApiError> {
    service.create_project(&who, &body.name).await?;
    Ok(StatusCode::CREATED)
}

/// Adds (`PUT`) or removes (`DELETE`) a member: 204; 404 for an unknown project or user.
#[utoipa::path(put, path = "/api/v1/admin/projects/{project}/members/{user}", tag = "admin", params(("project" = String, Path, description = "Project name"), ("user" = String, Path, description = "User id")),
    responses(
        (status = 204, description = "A member now"),
        (status = 404, description = "No such project or user", body = crate::api::error::ErrorBody),
        crate::api::error::Refusals
    ))]
pub async fn add_member(
    Caller(who): Caller,
    State(service): State<Service>,
    Path((project, user)): Path<(String, String)>,
) -> Result<StatusCode, ApiError> {
    service.set_member(&who, &project, &user, true).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// See [`add_member`].
#[utoipa::path(delete, path = "/api/v1/admin/projects/{project}/members/{user}", tag = "admin", params(("project" = String, Path, description = "Project name"), ("user" = String, Path, description = "User id")),
    responses(
        (status = 204, description = "No longer a member"),
        (status = 404, description = "No such project or user", body = crate::api::error::ErrorBody),
        crate::api::error::Refusals
    ))]
pub async fn remove_member(
    Caller(who): Caller,
    State(service): State<Service>,
    Path((project, user)): Path<(String, String)>,
) -> Result<StatusCode, ApiError> {
    service.set_member(&who, &project, &user, false).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Disables an account and ends its logins at once.
#[utoipa::path(post, path = "/api/v1/admin/users/{id}/disable", tag = "admin", params(("id" = String, Path, description = "User id")),
    responses(
        (status = 204, description = "Disabled; its logins ended"),
        (status = 403, description = "The caller's own account (`own_account`), or no permission", body = crate::api::error::ErrorBody),
        (status = 404, description = "No such user", body = crate::api::error::ErrorBody),
        crate::api::error::Refusals
    ))]
pub async fn disable_user(
    Caller(who): Caller,
    State(service): State<Service>,
    Path(id): Path<String>,
) -> Result<StatusCode, ApiError> {
    service.set_disabled(&who, &id, true).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Re-enables an account.
#[utoipa::path(post, path = "/api/v1/admin/users/{id}/enable", tag = "admin", params(("id" = String, Path, description = "User id")),
    responses(
        (status = 204, description = "Enabled"),
        (status = 404, description = "No such user", body = crate::api::error::ErrorBody),
        crate::api::error::Refusals
    ))]
pub async fn enable_user(
    Caller(who): Caller,
    State(service): State<Service>,
    Path(id): Path<String>,
) -> Result<StatusCode, ApiError> {
    service.set_disabled(&who, &id, false).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Every key (never a secret).
#[utoipa::path(get, path = "/api/v1/admin/keys", tag = "admin",
    responses(
        (status = 200, description = "Every key, never a secret", body = Vec<Object>),
        crate::api::error::Refusals
    ))]
pub async fn list_keys(
    Caller(who): Caller,
    State(service): State<Service>,
) -> Result<Json<Vec<ApiKey>>, ApiError> {
    Ok(Json(service.keys(&who).await?))
}

/// Creates a key: 201 `{"key", "secret"}`; the secret is in this answer only.
#[utoipa::path(post, path = "/api/v1/admin/keys", tag = "admin", request_body = CreateKey,
    responses(
        (status = 201, description = "Created: `{\"key\", \"secret\"}`; the secret only in this answer", body = Object),
        (status = 400, description = "Malformed JSON, or an input that breaks a rule (named in the message)", body = crate::api::error::ErrorBody),
        (status = 404, description = "An unknown project", body = crate::api::error::ErrorBody),
        crate::api::error::Refusals,
        crate::api::error::BodyRefusals
    ))]
pub async fn create_key(
    Caller(who): Caller,
    State(service): State<Service>,
    ApiJson(new): ApiJson<CreateKey>,
) -> Result<(StatusCode, Json<serde_json::Value>), ApiError> {
    // Each scope exactly as named: the list is not text to split and trim.
    let named_workflow = |s: &str| {
        s.strip_prefix(switchyard_auth::api_keys::WORKFLOW_GRANT)
            .is_some_and(|name| switchyard_auth::projects::check_name(name).is_ok())
    };
    if let Some(bad) = new
        .scopes
        .iter()
        .find(|s| !SCOPES.contains(&s.as_str()) && !named_workflow(s))
    {
        return Err(ApiError::bad_request(format!(
            "unknown scope '{bad}': expected {}, or workflows:run:NAME",
            SCOPES.join(", ")
        )));
    }
    let request = KeyRequest {
        name: &new.name,
        project: &new.project,
        scopes: &new.scopes.join(","),
        rate_per_min: new.rate_per_min,
        max_concurrency: new.max_concurrency,
    };
    let (key, secret) = service.issue_key(&who, &request).await?;
    Ok((
        StatusCode::CREATED,
        Json(serde_json::json!({ "key": key, "secret": secret })),
    ))
}

/// Revokes a key at once: 204, or 404 when there is no live key with this id.
#[utoipa::path(delete, path = "/api/v1/admin/keys/{id}", tag = "admin", params(("id" = String, Path, description = "Key id")),
    responses(
        (status = 204, description = "Revoked"),
        (status = 404, description = "No live key with this id", body = crate::api::error::ErrorBody),
        crate::api::error::Refusals
    ))]
pub async fn revoke_key(
    Caller(who): Caller,
    State(service): State<Service>,
    Path(id): Path<String>,
) -> Result<StatusCode, ApiError> {
    service.revoke_key(&who, &id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// The capabilities that are off.
#[utoipa::path(get, path = "/api/v1/admin/switches", tag = "admin",
    responses(
        (status = 200, description = "The capabilities that are off", body = Vec<Object>),
        crate::api::error::Refusals
    ))]
pub async fn list_switches(
    Caller(who): Caller,
    State(service): State<Service>,
) -> Result<Json<Vec<Switch>>, ApiError> {
    Ok(Json(service.switched_off(&who).await?))
}

/// Turns a capability off for every server, with a reason: 204; 404 for an unknown
/// capability.
#[utoipa::path(put, path = "/api/v1/admin/switches/{capability}", tag = "admin", params(("capability" = CapabilityName, Path, description = "new_runs, http_tool, event_ingest or inference")), request_body = SwitchOff,
    responses(
        (status = 204, description = "Off for every server"),
        (status = 400, description = "Malformed JSON or an empty reason", body = crate::api::error::ErrorBody),
        (status = 404, description = "No such capability", body = crate::api::error::ErrorBody),
        crate::api::error::Refusals,
        crate::api::error::BodyRefusals
    ))]
pub async fn switch_off(
    Caller(who): Caller,
    State(service): State<Service>,
    Path(name): Path<String>,
    ApiJson(body): ApiJson<SwitchOff>,
) -> Result<StatusCode, ApiError> {
    service.set_switch(&who, &name, Some(&body.reason)).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Turns a capability back on: 204.
#[utoipa::path(delete, path = "/api/v1/admin/switches/{capability}", tag = "admin", params(("capability" = CapabilityName, Path, description = "new_runs, http_tool, event_ingest or inference")),
    responses(
        (status = 204, description = "On again"),
        (status = 404, description = "No such capability", body = crate::api::error::ErrorBody),
        crate::api::error::Refusals
    ))]
pub async fn switch_on(
    Caller(who): Caller,
    State(service): State<Service>,
    Path(name): Path<String>,
) -> Result<StatusCode, ApiError> {
    service.set_switch(&who, &name, None).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct AuditParams {
    /// Only entries after this sequence number (default 0: from the start).
    #[serde(default)]
    pub after: i64,
    /// 1–1000 (default 100); outside that range is 400.
    #[param(minimum = 1, maximum = 1000)]
    pub limit: Option<i64>,
    /// Only this actor's entries.
    pub actor: Option<String>,
    /// Only this action's entries (e.g. `runs.create`).
    pub action: Option<String>,
}

/// Audit entries after `after`, oldest first (at most `limit`, default 100, up to 1,000),
/// optionally one actor's or one action's.
#[utoipa::path(get, path = "/api/v1/admin/audit", tag = "admin", params(AuditParams),
    responses(
        (status = 200, description = "Entries after `after`, oldest first", body = Vec<Object>),
        (status = 400, description = "`limit` outside 1–1000", body = crate::api::error::ErrorBody),
        crate::api::error::Refusals
    ))]
pub async fn audit_log(
    Caller(who): Caller,
    State(service): State<Service>,
    ApiQuery(query): ApiQuery<AuditParams>,
) -> Result<Json<Vec<audit::Row>>, ApiError> {
    let query = AuditQuery {
        after: query.after,
        limit: query.limit,
        actor: query.actor,
        action: query.action,
    };
    Ok(Json(service.audit_entries(&who, &query).await?))
}

/// Walks the chain: `{"intact": true, "rows"}` or `{"intact": false, "problem"}`.
#[utoipa::path(get, path = "/api/v1/admin/audit/verify", tag = "admin",
    responses(
        (status = 200, description = "`{\"intact\": true, \"rows\"}` or `{\"intact\": false, \"problem\"}`", body = Object),
        crate::api::error::Refusals
    ))]
pub async fn audit_verify(
    Caller(who): Caller,
    State(service): State<Service>,
) -> Result<Json<serde_json::Value>, ApiError> {
    Ok(Json(match service.verify_audit(&who).await? {
        Verdict::Intact { rows } => serde_json::json!({"intact": true, "rows": rows}),
        Verdict::Edited { seq } => serde_json::json!({
            "intact": false, "problem": format!("row {seq} was changed after it was written")
        }),
        Verdict::Gap { after, next } => serde_json::json!({
            "intact": false, "problem": format!("rows are missing after row {after} (next present: {next})")
        }),
    }))
}

#[cfg(test)]
mod tests {
    use switchyard_auth::api_keys::Scope;
    use switchyard_auth::kill::Capability;
    use switchyard_auth::role::Role;
    use switchyard_protocol::api::admin::{CAPABILITIES, ROLES, SCOPES};

    /// The names the API document lists are the names the server accepts.
    #[test]
    fn documented_names_match_the_rules() {
        let scopes: Vec<&str> = Scope::ALL.iter().map(|s| s.as_str()).collect();
        assert_eq!(scopes, SCOPES);
        for role in ROLES {
            assert_eq!(Role::parse(role).unwrap().as_str(), role);
        }
        assert!(Role::parse("root").is_err());
        for capability in CAPABILITIES {
            assert_eq!(Capability::parse(capability).unwrap().as_str(), capability);
        }
        assert_eq!(Capability::ALL.len(), CAPABILITIES.len());
        assert_eq!(
            switchyard_auth::admin::MAX_RATE_PER_MIN,
            switchyard_protocol::api::admin::MAX_RATE_PER_MIN
        );
        assert_eq!(
            switchyard_auth::admin::MAX_CONCURRENCY,
            switchyard_protocol::api::admin::MAX_CONCURRENCY
        );
    }
}
