//! The signed-in caller of a page or server function, as the server's session guard found
//! it: who (for the audit log), what role, which projects, and from where. The guard puts one
//! into every request it lets through; server functions read it and ask [`Caller::require`].

use switchyard_db::Database;

use crate::projects::Visibility;
use crate::{Permission, Role, audit};

/// Who is behind a browser request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Caller {
    /// The email, or `local-operator` when sign-in is off.
    pub name: String,
    /// The user's id; `None` for the local operator.
    pub user_id: Option<String>,
    /// The user's role; the local operator (sign-in off) may do everything.
    pub role: Role,
    pub visibility: Visibility,
    pub ip: String,
    pub user_agent: String,
}

impl Caller {
    /// Sign-in is off: one operator with every right, seeing every project.
    pub fn local_operator(ip: String, user_agent: String) -> Self {
        Self {
            name: "local-operator".into(),
            user_id: None,
            role: Role::Admin,
            visibility: Visibility::All,
            ip,
            user_agent,
        }
    }

    /// Whether this caller holds `permission`.
    pub fn may(&self, permission: Permission) -> bool {
        self.role.allows(permission)
    }

    /// The actor an audit entry names: the email (as the API's entries do), or
    /// `local-operator`.
    pub fn actor(&self) -> &str {
        &self.name
    }

    /// Appends an audit entry for something this caller did or was refused.
    pub async fn record(
        &self,
        db: &Database,
        action: &str,
        target: &str,
        result: &str,
    ) -> Result<(), sqlx::Error> {
        audit::append(
            db,
            &audit::Entry {
                actor: self.actor().to_owned(),
                action: action.to_owned(),
                target: target.to_owned(),
                result: result.to_owned(),
                ip: self.ip.clone(),
                user_agent: self.user_agent.clone(),
            },
        )
        .await
        .map(|_| ())
    }

    /// `Err` naming the permission unless this caller holds it; the refusal is audited.
    pub async fn require(
        &self,
        db: &Database,
        action: &str,
        permission: Permission,
    ) -> Result<(), String> {
        if self.may(permission) {
            return Ok(());
        }
        if let Err(e) = self
            .record(db, action, "", &format!("denied: needs {permission:?}"))
            .await
        {
            tracing::error!(error = %e, "could not write the audit log");
        }
        Err(format!(
            "forbidden: the {} role does not allow {permission:?}",
            self.role.as_str()
        ))
    }
}
