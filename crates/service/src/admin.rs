//! Admin operations, once for the REST API (`/api/v1/admin/…`) and the admin page: accounts,
//! projects and members, API keys, kill switches, the audit log. Each asks for its admin
//! permission first (a refusal is audited) and audits its outcome through one helper,
//! [`Service::audit_outcome`]; the input checks are `switchyard_auth::admin`'s.

use switchyard_auth::admin::{self, AdminError, KeyRequest};
use switchyard_auth::api_keys::{self, ApiKey};
use switchyard_auth::audit::{self, Verdict};
use switchyard_auth::kill::{Capability, Switch};
use switchyard_auth::projects::{self, Project};
use switchyard_auth::users::{self, User};
use switchyard_auth::{Permission, Role};

use crate::Service;
use crate::error::ServiceError;
use crate::principal::{Identity, Principal};

/// The most audit entries one read returns.
pub const MAX_AUDIT_PAGE: i64 = 1_000;

/// Which audit entries to read, oldest first.
#[derive(Debug, Clone, Default)]
pub struct AuditQuery {
    /// Only entries after this sequence number.
    pub after: i64,
    /// 1 to [`MAX_AUDIT_PAGE`]; default 100.
    pub limit: Option<i64>,
    pub actor: Option<String>,
    pub action: Option<String>,
}

fn internal(e: impl std::fmt::Display) -> ServiceError {
    ServiceError::internal(&e)
}

impl Service {
    /// Audits what `who` did as `action` on `target` — `ok_result` when it succeeded,
    /// `failed: …` when not — and hands the outcome back as the service's error.
    pub async fn audit_outcome<T>(
        &self,
        who: &Principal,
        (action, target): (&str, &str),
        ok_result: &str,
        outcome: Result<T, AdminError>,
    ) -> Result<T, ServiceError> {
        Ok(who.audited((action, target), ok_result, outcome).await?)
    }

    /// A signed-in user changes their own password (the current one must be right); every
    /// login of the account ends.
    pub async fn change_own_password(
        &self,
        who: &Principal,
        current: &str,
        new: &str,
    ) -> Result<(), ServiceError> {
        let id = match &who.identity {
            Identity::User { id, .. } => id.clone(),
            Identity::LocalOperator => {
                return Err(ServiceError::invalid(
                    "sign-in is off on this server: there is no password to change",
                ));
            }
            Identity::Key { .. } => {
                return Err(ServiceError::invalid(
                    "only a signed-in user has a password to change",
                ));
            }
        };
        let changed = admin::change_own_password(self.db(), &id, current, new).await;
        self.audit_outcome(who, ("users.change_password", &id), "ok", changed)
            .await
    }

    /// Every account.
    pub async fn users(&self, who: &Principal) -> Result<Vec<User>, ServiceError> {
        who.require(Permission::ManageUsers).await?;
        users::list(self.db()).await.map_err(internal)
    }

    /// Creates an account with `role`, in `member_of` (none: `default`); without a password
    /// one is generated. Returns the account and its password (to hand over once).
    pub async fn invite_user(
        &self,
        who: &Principal,
        email: &str,
        role: &str,
        password: Option<&str>,
        member_of: &[String],
    ) -> Result<(User, String), ServiceError> {
        who.require(Permission::ManageUsers).await?;
        let invited = admin::invite_user(self.db(), email, role, password, member_of).await;
        let target = invited
            .as_ref()
            .map_or_else(|_| email.to_owned(), |(user, _)| user.id.clone());
        self.audit_outcome(who, ("users.create", &target), "ok", invited)
            .await
    }

    /// Gives account `user_id` another role; nobody changes their own.
    pub async fn set_role(
        &self,
        who: &Principal,
        user_id: &str,
        role: &str,
    ) -> Result<(), ServiceError> {
        who.require(Permission::ManageUsers).await?;
        let role = Role::parse(role).map_err(ServiceError::invalid)?;
        // As with disabling: an admin who demoted themselves could lock the last admin out.
        let done = if who.user_id() == Some(user_id) {
            Err(AdminError::OwnAccount(
                "nobody changes their own role: ask another admin".into(),
            ))
        } else {
            users::set_role(self.db(), user_id, role)
                .await
                .map_err(AdminError::from)
        };
        let ok = format!("ok: {}", role.as_str());
        self.audit_outcome(who, ("users.set_role", user_id), &ok, done)
            .await
    }

    /// Disables account `user_id` (its logins end at once) or enables it again; nobody
    /// disables their own.
    pub async fn set_disabled(
        &self,
        who: &Principal,
        user_id: &str,
        disabled: bool,
    ) -> Result<(), ServiceError> {
        who.require(Permission::ManageUsers).await?;
        let done = admin::set_disabled(self.db(), user_id, disabled, who.user_id()).await;
        let action = if disabled {
            "users.disable"
        } else {
            "users.enable"
        };
        self.audit_outcome(who, (action, user_id), "ok", done).await
    }

    /// Every project and its members.
    pub async fn projects(&self, who: &Principal) -> Result<Vec<Project>, ServiceError> {
        who.require(Permission::ManageUsers).await?;
        projects::list(self.db())
            .await
            .map_err(|e| AdminError::from(e).into())
    }

    /// Creates project `name`.
    pub async fn create_project(&self, who: &Principal, name: &str) -> Result<(), ServiceError> {
        who.require(Permission::ManageUsers).await?;
        let name = name.trim();
        let done = projects::create(self.db(), name, &who.name)
            .await
            .map_err(AdminError::from);
        self.audit_outcome(who, ("projects.create", name), "ok", done)
            .await
    }

    /// Adds account `user_id` to `project` (`member: true`) or takes it out.
    pub async fn set_member(
        &self,
        who: &Principal,
        project: &str,
        user_id: &str,
        member: bool,
    ) -> Result<(), ServiceError> {
        who.require(Permission::ManageUsers).await?;
        let (action, done) = if member {
            let done = projects::add_member(self.db(), project, user_id).await;
            ("projects.add_member", done)
        } else {
            let done = projects::remove_member(self.db(), project, user_id).await;
            ("projects.remove_member", done)
        };
        let target = format!("{project}/{user_id}");
        self.audit_outcome(who, (action, &target), "ok", done.map_err(AdminError::from))
            .await
    }

    /// The account with `email`, for forms that name people by email.
    pub async fn user_by_email(&self, who: &Principal, email: &str) -> Result<User, ServiceError> {
        who.require(Permission::ManageUsers).await?;
        Ok(admin::user_by_email(self.db(), email).await?)
    }

    /// Every API key (never a secret).
    pub async fn keys(&self, who: &Principal) -> Result<Vec<ApiKey>, ServiceError> {
        who.require(Permission::ManageKeys).await?;
        api_keys::list(self.db()).await.map_err(internal)
    }

    /// Issues a key: the key and its secret, which is shown this once.
    pub async fn issue_key(
        &self,
        who: &Principal,
        request: &KeyRequest<'_>,
    ) -> Result<(ApiKey, String), ServiceError> {
        who.require(Permission::ManageKeys).await?;
        let issued = admin::issue_key(self.db(), request, &who.name).await;
        let target = issued
            .as_ref()
            .map_or_else(|_| request.name.to_owned(), |(key, _)| key.id.clone());
        self.audit_outcome(who, ("keys.create", &target), "ok", issued)
            .await
    }

    /// Revokes key `id` at once; 404 when there is no live key with that id.
    pub async fn revoke_key(&self, who: &Principal, id: &str) -> Result<(), ServiceError> {
        who.require(Permission::ManageKeys).await?;
        let done = match api_keys::revoke(self.db(), id).await {
            Ok(true) => Ok(()),
            Ok(false) => Err(AdminError::NotFound(format!("no live key with id {id}"))),
            Err(e) => Err(AdminError::Db(e)),
        };
        self.audit_outcome(who, ("keys.revoke", id), "ok", done)
            .await
    }

    /// The capabilities that are off.
    pub async fn switched_off(&self, who: &Principal) -> Result<Vec<Switch>, ServiceError> {
        who.require(Permission::KillSwitch).await?;
        self.switches().list().await.map_err(internal)
    }

    /// Turns `capability` off for every server with `reason` (every refused caller reads
    /// it), or back on with `None`; 404 for a capability that does not exist.
    pub async fn set_switch(
        &self,
        who: &Principal,
        capability: &str,
        off_reason: Option<&str>,
    ) -> Result<(), ServiceError> {
        who.require(Permission::KillSwitch).await?;
        let capability = Capability::parse(capability).map_err(ServiceError::not_found)?;
        let done = admin::set_switch(self.switches(), capability, off_reason, &who.name).await;
        let (action, ok) = match off_reason {
            Some(reason) => ("switch.off", format!("ok: {}", reason.trim())),
            None => ("switch.on", "ok".to_owned()),
        };
        self.audit_outcome(who, (action, capability.as_str()), &ok, done)
            .await
    }

    /// Audit entries after `query.after`, oldest first, optionally one actor's or action's.
    pub async fn audit_entries(
        &self,
        who: &Principal,
        query: &AuditQuery,
    ) -> Result<Vec<audit::Row>, ServiceError> {
        who.require(Permission::ReadAudit).await?;
        let limit = query.limit.unwrap_or(100);
        if !(1..=MAX_AUDIT_PAGE).contains(&limit) {
            return Err(ServiceError::invalid(format!(
                "limit must be between 1 and {MAX_AUDIT_PAGE}"
            )));
        }
        audit::list(
            self.db(),
            query.after,
            limit,
            query.actor.as_deref(),
            query.action.as_deref(),
        )
        .await
        .map_err(internal)
    }

    /// The newest `limit` entries matching `text` in any field (any case), optionally
    /// refusals only.
    pub async fn recent_audit(
        &self,
        who: &Principal,
        text: &str,
        denied_only: bool,
        limit: i64,
    ) -> Result<Vec<audit::Row>, ServiceError> {
        who.require(Permission::ReadAudit).await?;
        audit::recent(self.db(), limit, text, denied_only)
            .await
            .map_err(internal)
    }

    /// Walks the audit chain.
    pub async fn verify_audit(&self, who: &Principal) -> Result<Verdict, ServiceError> {
        who.require(Permission::ReadAudit).await?;
        audit::verify(self.db()).await.map_err(internal)
    }
}
