//! `/api/v1/workflows`: workflow templates (a named, versioned plan with a JSON Schema for its
//! parameters) and the runs started from them.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::status::RunStatus;

/// The longest description, in characters.
pub const MAX_DESCRIPTION_CHARS: usize = 2_000;
/// The longest `?wait=` a caller may ask for, in seconds.
pub const MAX_WAIT_S: u64 = 300;

/// `POST /api/v1/workflows`: save a template (a new version when the name exists).
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SaveTemplate {
    /// 1 to 63 lowercase letters, digits, `-` or `_`, starting with a letter or digit.
    #[cfg_attr(feature = "openapi", schema(pattern = "^[a-z0-9][a-z0-9_-]{0,62}$"))]
    pub name: String,
    /// What it does, shown above its form; at most 2,000 characters.
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schema(max_length = 2000))]
    pub description: String,
    /// Where its runs go. Default: an API key's project, or the caller's only project, or
    /// `default`. A new version may not move a template to another project.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", schema(pattern = "^[a-z0-9][a-z0-9_-]{0,62}$"))]
    pub project: Option<String>,
    /// JSON Schema of the parameters: an object schema (`"type": "object"`).
    #[cfg_attr(feature = "openapi", schema(value_type = Object))]
    pub params_schema: Value,
    /// The plan (as for `POST /api/v1/runs`); its strings may read `{{params.NAME}}`, each
    /// NAME a property of `params_schema`.
    #[cfg_attr(feature = "openapi", schema(value_type = Object))]
    pub plan: Value,
}

/// A template's version, as stored.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TemplateView {
    pub name: String,
    pub version: i64,
    pub project: String,
    pub description: String,
    #[cfg_attr(feature = "openapi", schema(value_type = Object))]
    pub params_schema: Value,
    #[cfg_attr(feature = "openapi", schema(value_type = Object))]
    pub plan: Value,
    pub created_by: String,
    pub created_at_ms: i64,
    /// How many versions the name has (this one may be older than the newest).
    pub versions: i64,
}

/// `GET /api/v1/workflows`: the newest version of each template the caller sees.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TemplateList {
    pub templates: Vec<TemplateView>,
}

/// A run started from a template: its id, and once it has ended (with `?wait=`), its outputs.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct WorkflowRun {
    pub id: String,
    pub template: String,
    pub version: i64,
    pub status: RunStatus,
    /// Whether the run has ended (succeeded, failed or cancelled).
    pub finished: bool,
    /// Each succeeded step's output, by step key (filled once the run has ended).
    #[cfg_attr(feature = "openapi", schema(value_type = Object))]
    pub outputs: Map<String, Value>,
    /// Why it failed or was cancelled.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

/// One problem of a template or of a run's parameters, placed at its field: a JSON pointer
/// into the parameters (`/email`, `""` for the whole object), or `params_schema`, `plan…`,
/// `name`, `description`, `project` for a template.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FieldIssue {
    pub field: String,
    pub message: String,
}

/// What a page's attempt to save a template or start a run came to: done, or refused with
/// every problem placed at its field (the same problems the REST API lists in `details`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum Attempt<T> {
    Done(T),
    Problems {
        message: String,
        issues: Vec<FieldIssue>,
    },
}

/// A template's page: the template, and the newest runs started from it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TemplatePage {
    pub template: TemplateView,
    pub runs: Vec<String>,
    /// Whether the caller may start runs of it (a viewer sees the form, disabled).
    pub may_run: bool,
}
