//! Roles, permissions, and the one table that says which role may do what. Every route,
//! server function and stream subscription asks [`Role::allows`]; nothing else decides.

use serde::{Deserialize, Serialize};

/// What a user is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// Everything, including users, keys, the audit log and kill switches.
    Admin,
    /// Runs work: starts, steers and approves runs, ingests events, uses models.
    Operator,
    /// Reads.
    Viewer,
}

/// What an action needs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Permission {
    ReadRuns,
    WriteRuns,
    Approve,
    IngestEvents,
    Infer,
    ManageUsers,
    ManageKeys,
    ReadAudit,
    KillSwitch,
    /// Start runs of saved workflow templates (an API key may hold this alone, or for named
    /// templates only).
    RunWorkflows,
}

impl Permission {
    pub const ALL: [Permission; 10] = [
        Self::ReadRuns,
        Self::WriteRuns,
        Self::Approve,
        Self::IngestEvents,
        Self::Infer,
        Self::ManageUsers,
        Self::ManageKeys,
        Self::ReadAudit,
        Self::KillSwitch,
        Self::RunWorkflows,
    ];
}

impl Role {
    pub const ALL: [Role; 3] = [Self::Admin, Self::Operator, Self::Viewer];

    /// The permission matrix.
    pub fn allows(self, permission: Permission) -> bool {
        use Permission::*;
        match self {
            Self::Admin => true,
            Self::Operator => matches!(
                permission,
                ReadRuns | WriteRuns | Approve | IngestEvents | Infer | RunWorkflows
            ),
            Self::Viewer => matches!(permission, ReadRuns),
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Admin => "admin",
            Self::Operator => "operator",
            Self::Viewer => "viewer",
        }
    }

    /// Parses `admin`, `operator` or `viewer`; the error names the choices.
    pub fn parse(text: &str) -> Result<Self, String> {
        match text {
            "admin" => Ok(Self::Admin),
            "operator" => Ok(Self::Operator),
            "viewer" => Ok(Self::Viewer),
            other => Err(format!(
                "unknown role '{other}': expected admin, operator or viewer"
            )),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_matrix_grows_with_the_role_and_only_admins_administer() {
        for permission in Permission::ALL {
            assert!(Role::Admin.allows(permission));
            if Role::Viewer.allows(permission) {
                assert!(Role::Operator.allows(permission), "{permission:?}");
            }
        }
        for admin_only in [
            Permission::ManageUsers,
            Permission::ManageKeys,
            Permission::ReadAudit,
            Permission::KillSwitch,
        ] {
            assert!(!Role::Operator.allows(admin_only));
            assert!(!Role::Viewer.allows(admin_only));
        }
        assert!(!Role::Viewer.allows(Permission::WriteRuns));
        assert!(!Role::Viewer.allows(Permission::RunWorkflows));
        for role in Role::ALL {
            assert_eq!(Role::parse(role.as_str()), Ok(role));
        }
        assert!(
            Role::parse("root")
                .unwrap_err()
                .contains("admin, operator or viewer")
        );
    }
}
