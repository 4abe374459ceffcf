//! The admin page's server functions: accounts, projects, API keys, kill switches and the
//! audit log. Each asks for its admin permission first (a refusal is audited) and audits
//! every change; the checks on input are `switchyard_auth::admin`'s, the same as the API's.

use leptos::prelude::*;
use switchyard_protocol::admin::{AdminOverview, AuditRow, Invited, KeyIssued};

#[cfg(feature = "ssr")]
use super::access::{audited, require};
#[cfg(feature = "ssr")]
use switchyard_auth::Permission;

#[cfg(feature = "ssr")]
fn failed(e: impl std::fmt::Display) -> ServerFnError {
    ServerFnError::new(e.to_string())
}

/// Users, projects, keys and switches.
#[server(prefix = "/api/fn", endpoint = "admin_overview")]
pub async fn load_admin() -> Result<AdminOverview, ServerFnError> {
    use switchyard_auth::{api_keys, kill, projects, users};
    use switchyard_protocol::admin::{KeyRow, ProjectRow, SwitchRow, UserRow};
    let (ctx, _) = require("admin.overview", Permission::ManageUsers).await?;
    let all_projects = projects::list(ctx.db()).await.map_err(failed)?;
    // Each user's projects, from the projects' member lists (no query per user).
    let user_rows = users::list(ctx.db())
        .await
        .map_err(failed)?
        .into_iter()
        .map(|user| UserRow {
            projects: all_projects
                .iter()
                .filter(|p| p.members.contains(&user.email))
                .map(|p| p.name.clone())
                .collect(),
            id: user.id,
            email: user.email,
            role: user.role.as_str().to_owned(),
            disabled: user.disabled,
        })
        .collect();
    let keys = api_keys::list(ctx.db())
        .await
        .map_err(failed)?
        .into_iter()
        .map(|k| KeyRow {
            id: k.id,
            name: k.name,
            project: k.project,
            scopes: k.scopes.iter().map(|s| s.as_str().to_owned()).collect(),
            rate_per_min: k.rate_per_min,
            max_concurrency: k.max_concurrency,
            last_used_at_ms: k.last_used_at_ms,
            revoked: k.revoked,
        })
        .collect();
    let off = kill::KillSwitches::new(ctx.db().clone())
        .list()
        .await
        .map_err(failed)?;
    let switches = kill::Capability::ALL
        .into_iter()
        .map(|capability| {
            let switch = off.iter().find(|s| s.capability == capability);
            SwitchRow {
                capability: capability.as_str().to_owned(),
                describe: capability.describe().to_owned(),
                off_reason: switch.map(|s| s.reason.clone()),
                set_by: switch.map(|s| s.set_by.clone()),
            }
        })
        .collect();
    Ok(AdminOverview {
        users: user_rows,
        projects: all_projects
            .into_iter()
            .map(|p| ProjectRow {
                name: p.name,
                members: p.members,
            })
            .collect(),
        keys,
        switches,
    })
}

/// Creates an account with a generated one-time password (shown once).
#[server(prefix = "/api/fn", endpoint = "admin_invite_user")]
pub async fn invite_user(
    email: String,
    role: String,
    project: String,
) -> Result<Invited, ServerFnError> {
    let (ctx, caller) = require("users.create", Permission::ManageUsers).await?;
    let project = project.trim();
    let member_of: Vec<String> = if project.is_empty() {
        Vec::new()
    } else {
        vec![project.to_owned()]
    };
    let invited =
        switchyard_auth::admin::invite_user(ctx.db(), &email, &role, None, &member_of).await;
    let target = invited
        .as_ref()
        .map_or_else(|_| email.clone(), |(user, _)| user.id.clone());
    let (user, password) = audited(&caller, "users.create", &target, invited).await?;
    Ok(Invited {
        email: user.email,
        password,
    })
}

/// Gives an account another role.
#[server(prefix = "/api/fn", endpoint = "admin_set_role")]
pub async fn set_role(user_id: String, role: String) -> Result<(), ServerFnError> {
    let (ctx, caller) = require("users.set_role", Permission::ManageUsers).await?;
    let done = match switchyard_auth::Role::parse(&role) {
        Ok(role) => switchyard_auth::users::set_role(ctx.db(), &user_id, role)
            .await
            .map_err(|e| e.to_string()),
        Err(e) => Err(e),
    };
    audited(&caller, "users.set_role", &user_id, done).await
}

/// Disables an account (its logins end at once) or enables it again.
#[server(prefix = "/api/fn", endpoint = "admin_set_disabled")]
pub async fn set_disabled(user_id: String, disabled: bool) -> Result<(), ServerFnError> {
    let (ctx, caller) = require("users.disable", Permission::ManageUsers).await?;
    let done =
        switchyard_auth::admin::set_disabled(ctx.db(), &user_id, disabled, caller.user_id()).await;
    let action = if disabled {
        "users.disable"
    } else {
        "users.enable"
    };
    audited(&caller, action, &user_id, done).await
}

/// Creates a project.
#[server(prefix = "/api/fn", endpoint = "admin_create_project")]
pub async fn create_project(name: String) -> Result<(), ServerFnError> {
    let (ctx, caller) = require("projects.create", Permission::ManageUsers).await?;
    let name = name.trim().to_owned();
    let done = switchyard_auth::projects::create(ctx.db(), &name, &caller.name).await;
    audited(&caller, "projects.create", &name, done).await
}

/// Adds the account with `email` to `project`.
#[server(prefix = "/api/fn", endpoint = "admin_add_member")]
pub async fn add_member(project: String, email: String) -> Result<(), ServerFnError> {
    let (ctx, caller) = require("projects.add_member", Permission::ManageUsers).await?;
    let done = match switchyard_auth::admin::user_by_email(ctx.db(), &email).await {
        Ok(user) => switchyard_auth::projects::add_member(ctx.db(), &project, &user.id)
            .await
            .map_err(|e| e.to_string()),
        Err(e) => Err(e.to_string()),
    };
    let target = format!("{project}/{}", email.trim());
    audited(&caller, "projects.add_member", &target, done).await
}

/// Issues an API key; the secret is in this answer only.
#[server(prefix = "/api/fn", endpoint = "admin_create_key")]
pub async fn create_key(
    name: String,
    project: String,
    scopes: String,
    rate_per_min: u32,
    max_concurrency: u32,
) -> Result<KeyIssued, ServerFnError> {
    let (ctx, caller) = require("keys.create", Permission::ManageKeys).await?;
    let request = switchyard_auth::admin::KeyRequest {
        name: &name,
        project: project.trim(),
        scopes: &scopes,
        rate_per_min,
        max_concurrency,
    };
    let issued = switchyard_auth::admin::issue_key(ctx.db(), &request, &caller.name).await;
    let target = issued
        .as_ref()
        .map_or_else(|_| name.clone(), |(key, _)| key.id.clone());
    let (key, secret) = audited(&caller, "keys.create", &target, issued).await?;
    Ok(KeyIssued { id: key.id, secret })
}

/// Revokes a key at once.
#[server(prefix = "/api/fn", endpoint = "admin_revoke_key")]
pub async fn revoke_key(id: String) -> Result<(), ServerFnError> {
    let (ctx, caller) = require("keys.revoke", Permission::ManageKeys).await?;
    let done = match switchyard_auth::api_keys::revoke(ctx.db(), &id).await {
        Ok(true) => Ok(()),
        Ok(false) => Err(format!("no live key with id {id}")),
        Err(e) => Err(e.to_string()),
    };
    audited(&caller, "keys.revoke", &id, done).await
}

/// Turns a capability off (with a reason every refused caller reads) or back on.
#[server(prefix = "/api/fn", endpoint = "admin_set_switch")]
pub async fn set_switch(
    capability: String,
    off: bool,
    reason: String,
) -> Result<(), ServerFnError> {
    use switchyard_auth::kill::{Capability, KillSwitches};
    let (ctx, caller) = require("switch.set", Permission::KillSwitch).await?;
    let switches = KillSwitches::new(ctx.db().clone());
    let done = match Capability::parse(&capability) {
        Err(e) => Err(e),
        Ok(c) => {
            let reason = off.then_some(reason.as_str());
            switchyard_auth::admin::set_switch(&switches, c, reason, &caller.name)
                .await
                .map_err(|e| e.to_string())
        }
    };
    let (action, ok) = if off {
        ("switch.off", format!("ok: {}", reason.trim()))
    } else {
        ("switch.on", "ok".to_owned())
    };
    super::access::audited_as(&caller, (action, &capability), &ok, done).await
}

/// The newest audit entries matching `text` (any field, any case), optionally refusals only.
#[server(prefix = "/api/fn", endpoint = "admin_audit")]
pub async fn audit_entries(
    text: String,
    denied_only: bool,
) -> Result<Vec<AuditRow>, ServerFnError> {
    let (ctx, _) = require("audit.list", Permission::ReadAudit).await?;
    let rows = switchyard_auth::audit::recent(ctx.db(), 200, &text, denied_only)
        .await
        .map_err(failed)?;
    Ok(rows
        .into_iter()
        .map(|r| AuditRow {
            seq: r.seq,
            at_ms: r.at_ms,
            actor: r.entry.actor,
            action: r.entry.action,
            target: r.entry.target,
            result: r.entry.result,
            ip: r.entry.ip,
        })
        .collect())
}

/// Walks the audit chain and says whether it is intact.
#[server(prefix = "/api/fn", endpoint = "admin_audit_verify")]
pub async fn verify_audit() -> Result<String, ServerFnError> {
    use switchyard_auth::audit::{self, Verdict};
    let (ctx, _) = require("audit.verify", Permission::ReadAudit).await?;
    Ok(match audit::verify(ctx.db()).await.map_err(failed)? {
        Verdict::Intact { rows } => format!("Intact: {rows} entries, every link checks."),
        Verdict::Edited { seq } => format!("Broken: entry {seq} was changed after it was written."),
        Verdict::Gap { after, next } => {
            format!("Broken: entries are missing after {after} (next present: {next}).")
        }
    })
}
