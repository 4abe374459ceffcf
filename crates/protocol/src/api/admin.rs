//! `/api/v1/admin`: the request bodies of account, project, key and switch administration.
//! The rows the answers are made of are in [`crate::admin`].

use serde::{Deserialize, Serialize};

/// The roles an account can have.
pub const ROLES: [&str; 3] = ["admin", "operator", "viewer"];
/// The scopes an API key can carry; besides them, `workflows:run:NAME` lets a key run the
/// workflow template NAME.
pub const SCOPES: [&str; 7] = [
    "runs:read",
    "runs:write",
    "approve",
    "events:ingest",
    "infer",
    "workflows:run",
    "admin",
];
/// Every scope a key can carry, as a regular expression (the fixed ones and `workflows:run:NAME`).
pub const SCOPE_PATTERN: &str = "^(runs:read|runs:write|approve|events:ingest|infer|workflows:run|admin|workflows:run:[a-z0-9][a-z0-9_-]{0,62})$";
/// The capabilities an admin can switch off.
pub const CAPABILITIES: [&str; 4] = ["new_runs", "http_tool", "event_ingest", "inference"];
/// The highest `rate_per_min` a key may be given.
pub const MAX_RATE_PER_MIN: u32 = 1_000_000;
/// The highest `max_concurrency` a key may be given.
pub const MAX_CONCURRENCY: u32 = 10_000;

/// The form of an email the server accepts, as a pattern (ECMA-262, as JSON Schema reads it):
/// the characters excluded are exactly those Rust calls whitespace or control, and U+FEFF.
pub const EMAIL_PATTERN: &str = concat!(
    "^[\\t\\n\\f\\r ]*",
    "[^\\x00-\\x20\\x7f-\\xa0\\u1680\\u2000-\\u200a\\u2028\\u2029\\u202f\\u205f\\u3000\\ufeff@]+",
    "@",
    "[^\\x00-\\x20\\x7f-\\xa0\\u1680\\u2000-\\u200a\\u2028\\u2029\\u202f\\u205f\\u3000\\ufeff]+",
    "[\\t\\n\\f\\r ]*$"
);

/// `POST /api/v1/admin/users`.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewUser {
    /// `name@domain`: no whitespace, control or zero-width no-break characters inside (ASCII
    /// whitespace around it is trimmed); at most 254 characters; stored lowercased.
    #[cfg_attr(
        feature = "openapi",
        schema(
            pattern = "^[\\t\\n\\f\\r ]*[^\\x00-\\x20\\x7f-\\xa0\\u1680\\u2000-\\u200a\\u2028\\u2029\\u202f\\u205f\\u3000\\ufeff@]+@[^\\x00-\\x20\\x7f-\\xa0\\u1680\\u2000-\\u200a\\u2028\\u2029\\u202f\\u205f\\u3000\\ufeff]+[\\t\\n\\f\\r ]*$",
            max_length = 254
        )
    )]
    pub email: String,
    /// 12 to 1,024 characters. Omitted: one is generated and returned once.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", schema(min_length = 12, max_length = 1024))]
    pub password: Option<String>,
    #[cfg_attr(feature = "openapi", schema(value_type = RoleName))]
    pub role: String,
    /// The projects the account joins (default: `default`).
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schema(value_type = Vec<ProjectName>))]
    pub projects: Vec<String>,
}

/// The answer to `POST /api/v1/admin/users`.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct UserCreated {
    pub user: UserView,
    /// The generated password, shown once; absent when the request gave one.
    pub password: Option<String>,
}

/// An account as the API shows it.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UserView {
    pub id: String,
    pub email: String,
    #[cfg_attr(feature = "openapi", schema(value_type = RoleName))]
    pub role: String,
    pub disabled: bool,
    pub created_at_ms: i64,
}

/// `PUT /api/v1/admin/users/{id}/role`.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewRole {
    #[cfg_attr(feature = "openapi", schema(value_type = RoleName))]
    pub role: String,
}

/// `POST /api/v1/admin/projects`.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewProject {
    #[cfg_attr(feature = "openapi", schema(value_type = ProjectName))]
    pub name: String,
}

/// `POST /api/v1/admin/keys`.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CreateKey {
    /// What the key is for; not blank.
    #[cfg_attr(
        feature = "openapi",
        schema(
            pattern = "[^\\t-\\r \\x85\\xa0\\u1680\\u2000-\\u200a\\u2028\\u2029\\u202f\\u205f\\u3000]",
            max_length = 200
        )
    )]
    pub name: String,
    /// At least one.
    #[cfg_attr(feature = "openapi", schema(value_type = Vec<ScopeName>, min_items = 1))]
    pub scopes: Vec<String>,
    /// Default `default`.
    #[serde(default = "default_project")]
    #[cfg_attr(feature = "openapi", schema(value_type = ProjectName))]
    pub project: String,
    /// Requests per minute, 1 to 1,000,000 (default 600).
    #[serde(default = "default_rate", deserialize_with = "crate::whole::integer")]
    #[cfg_attr(feature = "openapi", schema(minimum = 1, maximum = 1_000_000))]
    pub rate_per_min: u32,
    /// Requests in flight at once, 1 to 10,000 (default 8).
    #[serde(
        default = "default_concurrency",
        deserialize_with = "crate::whole::integer"
    )]
    #[cfg_attr(feature = "openapi", schema(minimum = 1, maximum = 10_000))]
    pub max_concurrency: u32,
}

fn default_project() -> String {
    crate::DEFAULT_PROJECT.into()
}
fn default_rate() -> u32 {
    600
}
fn default_concurrency() -> u32 {
    8
}

/// `PUT /api/v1/admin/switches/{capability}`.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SwitchOff {
    /// Shown to everyone the switch refuses; not blank.
    #[cfg_attr(
        feature = "openapi",
        schema(
            pattern = "[^\\t-\\r \\x85\\xa0\\u1680\\u2000-\\u200a\\u2028\\u2029\\u202f\\u205f\\u3000]"
        )
    )]
    pub reason: String,
}

/// Schemas for names with a fixed set of values or a fixed form (OpenAPI only).
#[cfg(feature = "openapi")]
mod names {
    use utoipa::openapi::schema::{ObjectBuilder, SchemaType, Type};
    use utoipa::openapi::{RefOr, Schema};

    /// A string schema type named `$name`, built by `$build` from a string `ObjectBuilder`.
    macro_rules! string_schema {
        ($(#[$doc:meta])* $name:ident, $build:expr) => {
            $(#[$doc])*
            pub struct $name;
            impl utoipa::PartialSchema for $name {
                fn schema() -> RefOr<Schema> {
                    let build: fn(ObjectBuilder) -> ObjectBuilder = $build;
                    build(ObjectBuilder::new().schema_type(SchemaType::Type(Type::String))).into()
                }
            }
            impl utoipa::ToSchema for $name {}
        };
    }

    string_schema!(
        /// `admin`, `operator` or `viewer`.
        RoleName,
        |s| s.enum_values(Some(super::ROLES)).description(Some("A role"))
    );
    string_schema!(
        /// An API key scope.
        ScopeName,
        |s| s.pattern(Some(super::SCOPE_PATTERN)).description(Some(
            "An API key scope: runs:read, runs:write, approve, events:ingest, infer, workflows:run, admin, or workflows:run:NAME (one workflow template)"
        ))
    );
    string_schema!(
        /// A capability an admin can switch off.
        CapabilityName,
        |s| s.enum_values(Some(super::CAPABILITIES)).description(Some("A capability"))
    );
    string_schema!(
        /// 1 to 63 lowercase letters, digits, `-` or `_`, starting with a letter or digit.
        ProjectName,
        |s| s.pattern(Some("^[a-z0-9][a-z0-9_-]{0,62}$")).description(Some("A project name"))
    );
}

#[cfg(feature = "openapi")]
pub use names::{CapabilityName, ProjectName, RoleName, ScopeName};
