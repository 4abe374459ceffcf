//! [`Principal`]: who calls a use case and what they may do, the same for the REST API, pages,
//! server functions and the CLI. [`crate::access::Access`] builds one per request; use cases
//! ask it [`Principal::require`] for a permission and [`Principal::see`] for a project, and
//! record what it did with [`Principal::record`] or [`Principal::audited`].

use std::sync::Arc;

use switchyard_auth::api_keys::Scope;
use switchyard_auth::projects::{self, Visibility};
use switchyard_auth::{Permission, Role, audit};
use tokio::sync::OwnedSemaphorePermit;

use crate::error::{ErrorKind, ServiceError};

/// The name of the one caller when sign-in is off, and its notifications' recipient.
pub const LOCAL_OPERATOR: &str = "local-operator";

/// Who a request acts as.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Identity {
    /// `auth_required` is off: one operator with every right.
    LocalOperator,
    User {
        id: String,
        role: Role,
    },
    Key {
        id: String,
        scopes: Vec<Scope>,
        /// Workflow templates the key may run by name (`workflows:run:NAME`).
        workflows: Vec<String>,
    },
}

/// Where a request comes from: the peer address (never a forwarded header, which anyone can
/// write) and its user agent, for the audit log.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Client {
    pub ip: String,
    pub user_agent: String,
}

impl Client {
    /// An audit entry for this client.
    pub fn entry(&self, actor: &str, action: &str, target: &str, result: &str) -> audit::Entry {
        audit::Entry {
            actor: actor.to_owned(),
            action: action.to_owned(),
            target: target.to_owned(),
            result: result.to_owned(),
            ip: self.ip.clone(),
            user_agent: self.user_agent.clone(),
        }
    }
}

/// What an audit entry about this request needs.
#[derive(Debug, Clone)]
pub(crate) struct Trail {
    pub(crate) db: switchyard_db::Database,
    pub(crate) client: Client,
    /// What the caller asked for: `POST /api/v1/runs`, or a server function's action name.
    pub(crate) request: String,
}

impl Trail {
    pub(crate) async fn append(&self, actor: &str, action: &str, target: &str, result: &str) {
        let entry = self.client.entry(actor, action, target, result);
        if let Err(e) = audit::append(&self.db, &entry).await {
            tracing::error!(error = %e, %action, "could not write the audit log");
        }
    }
}

/// The caller of a use case.
#[derive(Debug, Clone)]
pub struct Principal {
    /// Recorded as the actor of approvals, cancellations and pauses, and in the audit log:
    /// the email, `key:ID`, or `local-operator`.
    pub name: String,
    pub identity: Identity,
    /// The projects whose runs, events and keys this caller may see.
    pub visibility: Visibility,
    /// An API key's or user's in-flight slot, held while the request runs.
    pub(crate) _slot: Option<Arc<OwnedSemaphorePermit>>,
    pub(crate) trail: Trail,
}

/// The scope an API key needs for a permission.
pub fn scope_for(permission: Permission) -> Scope {
    match permission {
        Permission::ReadRuns => Scope::RunsRead,
        Permission::WriteRuns => Scope::RunsWrite,
        Permission::Approve => Scope::Approve,
        Permission::IngestEvents => Scope::EventsIngest,
        Permission::Infer => Scope::Infer,
        Permission::RunWorkflows => Scope::WorkflowsRun,
        Permission::ManageUsers
        | Permission::ManageKeys
        | Permission::ReadAudit
        | Permission::KillSwitch => Scope::Admin,
    }
}

impl Principal {
    /// The local operator (sign-in off), acting from `client`.
    pub fn local_operator(db: switchyard_db::Database, client: Client, request: String) -> Self {
        Self {
            name: LOCAL_OPERATOR.into(),
            identity: Identity::LocalOperator,
            visibility: Visibility::All,
            _slot: None,
            trail: Trail {
                db,
                client,
                request,
            },
        }
    }

    /// The same caller, its refusals audited as `action` (a server function's name, such as
    /// `admin.overview`) instead of the request line.
    pub fn acting_as(mut self, action: &str) -> Self {
        self.trail.request = action.to_owned();
        self
    }

    /// The signed-in user's id; `None` for the local operator and API keys.
    pub fn user_id(&self) -> Option<&str> {
        match &self.identity {
            Identity::User { id, .. } => Some(id),
            _ => None,
        }
    }

    /// Whose notifications this caller reads, and who a run it starts is recorded as started
    /// by: a user's id, or `local-operator`; `None` for an API key (keys have no bell).
    pub fn recipient(&self) -> Option<String> {
        match &self.identity {
            Identity::LocalOperator => Some(LOCAL_OPERATOR.to_owned()),
            Identity::User { id, .. } => Some(id.clone()),
            Identity::Key { .. } => None,
        }
    }

    /// The role the pages show: a user's own, `admin` for the local operator; `None` for an
    /// API key (it has scopes, not a role).
    pub fn role(&self) -> Option<Role> {
        match &self.identity {
            Identity::LocalOperator => Some(Role::Admin),
            Identity::User { role, .. } => Some(*role),
            Identity::Key { .. } => None,
        }
    }

    /// Where the request came from.
    pub fn client(&self) -> &Client {
        &self.trail.client
    }

    /// Whether this caller holds `permission`.
    pub fn may(&self, permission: Permission) -> bool {
        match &self.identity {
            Identity::LocalOperator => true,
            Identity::User { role, .. } => role.allows(permission),
            Identity::Key { scopes, .. } => {
                scopes.contains(&scope_for(permission))
                    || scopes.contains(&Scope::Admin)
                    // A key that may submit any plan may also run any template's.
                    || (permission == Permission::RunWorkflows
                        && scopes.contains(&Scope::RunsWrite))
            }
        }
    }

    /// Whether this caller may run workflow template `name`: whoever holds
    /// [`Permission::RunWorkflows`] (operators, admins, keys with `workflows:run` or
    /// `runs:write`), and a key granted `workflows:run:NAME`.
    pub fn may_run_workflow(&self, name: &str) -> bool {
        self.may(Permission::RunWorkflows)
            || matches!(&self.identity, Identity::Key { workflows, .. } if workflows.iter().any(|w| w == name))
    }

    /// Whether this caller may read workflow template `name` (its schema, its form): whoever
    /// may read runs or may run it.
    pub fn may_read_workflow(&self, name: &str) -> bool {
        self.may(Permission::ReadRuns) || self.may_run_workflow(name)
    }

    /// 403 naming what is missing unless this caller may run template `name`; audited.
    pub async fn require_workflow(&self, name: &str) -> Result<(), ServiceError> {
        if self.may_run_workflow(name) {
            return Ok(());
        }
        self.trail
            .append(
                &self.name,
                &self.trail.request,
                name,
                "denied: may not run this workflow",
            )
            .await;
        let what = match &self.identity {
            Identity::Key { .. } => {
                format!("this API key lacks the scope workflows:run (or workflows:run:{name})")
            }
            Identity::User { role, .. } => format!(
                "forbidden: the {} role does not allow running workflows",
                role.as_str()
            ),
            Identity::LocalOperator => "forbidden: running workflows".to_owned(),
        };
        Err(ServiceError::new(ErrorKind::Forbidden, "forbidden", what))
    }

    /// 403 naming the permission unless this caller holds it; the refusal is audited.
    pub async fn require(&self, permission: Permission) -> Result<(), ServiceError> {
        if self.may(permission) {
            return Ok(());
        }
        self.trail
            .append(
                &self.name,
                &self.trail.request,
                "",
                &format!("denied: needs {permission:?}"),
            )
            .await;
        let what = match &self.identity {
            Identity::Key { .. } => format!(
                "this API key lacks the scope {}",
                scope_for(permission).as_str()
            ),
            Identity::User { role, .. } => format!(
                "forbidden: the {} role does not allow {permission:?}",
                role.as_str()
            ),
            Identity::LocalOperator => format!("forbidden: {permission:?}"),
        };
        Err(ServiceError::new(ErrorKind::Forbidden, "forbidden", what))
    }

    /// `Ok` if this caller sees `project`; otherwise the same 404 as an id that does not
    /// exist (`what`, e.g. "run 0192…"), so foreign ids reveal nothing. A refusal of an
    /// existing resource is audited.
    pub async fn see(&self, project: Option<&str>, what: &str) -> Result<(), ServiceError> {
        match project {
            Some(project) if self.visibility.sees(project) => Ok(()),
            found => {
                if found.is_some() {
                    self.trail
                        .append(
                            &self.name,
                            &self.trail.request,
                            what,
                            "denied: not in the caller's projects",
                        )
                        .await;
                }
                Err(ServiceError::not_found(format!("{what} not found")))
            }
        }
    }

    /// The project a new resource goes into: `asked`, or the caller's only project, or
    /// `default`; 404 for a project the caller does not see.
    pub async fn project_for_new(&self, asked: Option<&str>) -> Result<String, ServiceError> {
        let chosen = match (asked, &self.visibility) {
            (Some(asked), _) => asked.to_owned(),
            (None, Visibility::Only(only)) if only.len() == 1 => only[0].clone(),
            (None, _) => projects::DEFAULT.to_owned(),
        };
        self.see(Some(&chosen), &format!("project {chosen}"))
            .await?;
        Ok(chosen)
    }

    /// Appends an audit entry for something this caller did (`action` such as
    /// `runs.cancel`, its target, and `ok` or `failed: …`).
    pub async fn record(&self, action: &str, target: &str, result: &str) {
        self.trail.append(&self.name, action, target, result).await;
    }

    /// Audits `outcome` as `action` on `target` — `ok_result` when it succeeded (e.g.
    /// `ok: vendor outage`), `failed: …` when not — and hands it back.
    pub async fn audited<T, E: std::fmt::Display>(
        &self,
        (action, target): (&str, &str),
        ok_result: &str,
        outcome: Result<T, E>,
    ) -> Result<T, E> {
        let result = match &outcome {
            Ok(_) => ok_result.to_owned(),
            Err(e) => format!("failed: {e}"),
        };
        self.record(action, target, &result).await;
        outcome
    }
}
