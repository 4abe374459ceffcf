//! The admin page's server functions: accounts, projects, API keys, kill switches and the
//! audit log. Each calls its use case in `switchyard_service::admin` (the REST API's admin
//! routes call the same ones), which checks the admin permission (a refusal is audited under
//! the function's action name) and audits every change.

use leptos::prelude::*;
use switchyard_protocol::admin::{AdminOverview, AuditRow, Invited, KeyIssued};

#[cfg(feature = "ssr")]
use super::access::{refused, service_and_caller};

/// Users, projects, keys and switches.
#[server(prefix = "/api/fn", endpoint = "admin_overview")]
pub async fn load_admin() -> Result<AdminOverview, ServerFnError> {
    use switchyard_auth::kill;
    use switchyard_protocol::admin::{KeyRow, ProjectRow, SwitchRow, UserRow};
    let (service, who) = service_and_caller("admin.overview")?;
    let all_projects = service.projects(&who).await.map_err(refused)?;
    // Each user's projects, from the projects' member lists (no query per user).
    let user_rows = service
        .users(&who)
        .await
        .map_err(refused)?
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
    let keys = service
        .keys(&who)
        .await
        .map_err(refused)?
        .into_iter()
        .map(|k| KeyRow {
            scopes: k.grant_names(),
            id: k.id,
            name: k.name,
            project: k.project,
            rate_per_min: k.rate_per_min,
            max_concurrency: k.max_concurrency,
            last_used_at_ms: k.last_used_at_ms,
            revoked: k.revoked,
        })
        .collect();
    let off = service.switched_off(&who).await.map_err(refused)?;
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
    let (service, who) = service_and_caller("users.create")?;
    let project = project.trim();
    let member_of: Vec<String> = if project.is_empty() {
        Vec::new()
    } else {
        vec![project.to_owned()]
    };
    let (user, password) = service
        .invite_user(&who, &email, &role, None, &member_of)
        .await
        .map_err(refused)?;
    Ok(Invited {
        email: user.email,
        password,
    })
}

/// Gives an account another role.
#[server(prefix = "/api/fn", endpoint = "admin_set_role")]
pub async fn set_role(user_id: String, role: String) -> Result<(), ServerFnError> {
    let (service, who) = service_and_caller("users.set_role")?;
    service
        .set_role(&who, &user_id, &role)
        .await
        .map_err(refused)
}

/// Disables an account (its logins end at once) or enables it again.
#[server(prefix = "/api/fn", endpoint = "admin_set_disabled")]
pub async fn set_disabled(user_id: String, disabled: bool) -> Result<(), ServerFnError> {
    let (service, who) = service_and_caller("users.disable")?;
    service
        .set_disabled(&who, &user_id, disabled)
        .await
        .map_err(refused)
}

/// Creates a project.
#[server(prefix = "/api/fn", endpoint = "admin_create_project")]
pub async fn create_project(name: String) -> Result<(), ServerFnError> {
    let (service, who) = service_and_caller("projects.create")?;
    service.create_project(&who, &name).await.map_err(refused)
}

/// Adds the account with `email` to `project`.
#[server(prefix = "/api/fn", endpoint = "admin_add_member")]
pub async fn add_member(project: String, email: String) -> Result<(), ServerFnError> {
    let (service, who) = service_and_caller("projects.add_member")?;
    let user = service.user_by_email(&who, &email).await.map_err(refused)?;
    service
        .set_member(&who, &project, &user.id, true)
        .await
        .map_err(refused)
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
    let (service, who) = service_and_caller("keys.create")?;
    let request = switchyard_auth::admin::KeyRequest {
        name: &name,
        project: project.trim(),
        scopes: &scopes,
        rate_per_min,
        max_concurrency,
    };
    let (key, secret) = service.issue_key(&who, &request).await.map_err(refused)?;
    Ok(KeyIssued { id: key.id, secret })
}

/// Revokes a key at once.
#[server(prefix = "/api/fn", endpoint = "admin_revoke_key")]
pub async fn revoke_key(id: String) -> Result<(), ServerFnError> {
    let (service, who) = service_and_caller("keys.revoke")?;
    service.revoke_key(&who, &id).await.map_err(refused)
}

/// Turns a capability off (with a reason every refused caller reads) or back on.
#[server(prefix = "/api/fn", endpoint = "admin_set_switch")]
pub async fn set_switch(
    capability: String,
    off: bool,
    reason: String,
) -> Result<(), ServerFnError> {
    let (service, who) = service_and_caller("switch.set")?;
    let reason = off.then_some(reason.as_str());
    service
        .set_switch(&who, &capability, reason)
        .await
        .map_err(refused)
}

/// The newest audit entries matching `text` (any field, any case), optionally refusals only.
#[server(prefix = "/api/fn", endpoint = "admin_audit")]
pub async fn audit_entries(
    text: String,
    denied_only: bool,
) -> Result<Vec<AuditRow>, ServerFnError> {
    let (service, who) = service_and_caller("audit.list")?;
    let rows = service
        .recent_audit(&who, &text, denied_only, 200)
        .await
        .map_err(refused)?;
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
    use switchyard_auth::audit::Verdict;
    let (service, who) = service_and_caller("audit.verify")?;
    Ok(match service.verify_audit(&who).await.map_err(refused)? {
        Verdict::Intact { rows } => format!("Intact: {rows} entries, every link checks."),
        Verdict::Edited { seq } => format!("Broken: entry {seq} was changed after it was written."),
        Verdict::Gap { after, next } => {
            format!("Broken: entries are missing after {after} (next present: {next}).")
        }
    })
}
