//! The plan a run executes.
//!
//! A plan is JSON. Unknown fields are refused (a typo such as `depend_on` must not silently
//! drop a dependency). Omitted fields take the defaults documented on each field.
//!
//! ```json
//! {
//!   "steps": [
//!     {"key": "fetch", "agent": "researcher", "tool": "http",
//!      "input": {"method": "GET", "url": "https://example.com/data.json"}},
//!     {"key": "store", "agent": "clerk", "tool": "noop",
//!      "input": {"note": "{{steps.fetch.output.status}}"},
//!      "depends_on": ["fetch"], "risk": 0.8,
//!      "retry": {"max_attempts": 5}, "timeout_s": 30,
//!      "compensation": {"tool": "noop", "input": {"undo": "store"}}}
//!   ]
//! }
//! ```

use serde::{Deserialize, Serialize};
use serde_json::Value;

/// A DAG of steps.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Plan {
    /// 1 to 500 steps.
    #[cfg_attr(feature = "openapi", schema(min_items = 1, max_items = 500))]
    pub steps: Vec<StepSpec>,
}

/// One node of the plan.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StepSpec {
    /// Unique within the plan: lowercase letters, digits, `_` and `-`, at most 64 characters.
    /// Other steps name it in `depends_on` and in templates.
    #[cfg_attr(feature = "openapi", schema(pattern = "^[a-z0-9_-]{1,64}$"))]
    pub key: String,
    /// The agent (department) on whose behalf the tool runs.
    #[cfg_attr(feature = "openapi", schema(min_length = 1))]
    pub agent: String,
    /// The tool that does the work.
    #[cfg_attr(feature = "openapi", schema(min_length = 1))]
    pub tool: String,
    /// The tool's input; must satisfy the tool's input schema. Strings may contain templates.
    #[serde(default = "empty_object")]
    #[cfg_attr(feature = "openapi", schema(value_type = Object))]
    pub input: Value,
    /// Steps that must succeed before this one starts.
    #[serde(default)]
    pub depends_on: Vec<String>,
    #[serde(default)]
    pub retry: RetryPolicy,
    /// Per-attempt deadline in seconds (default 300, at most 86,400).
    #[serde(
        default = "default_timeout_s",
        deserialize_with = "crate::whole::integer"
    )]
    #[cfg_attr(feature = "openapi", schema(minimum = 1, maximum = 86_400))]
    pub timeout_s: u64,
    /// 0.0 (harmless) to 1.0 (irreversible). Defaults to the tool's default risk. Steps at or
    /// above the approval threshold wait for a person.
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schema(minimum = 0.0, maximum = 1.0))]
    pub risk: Option<f64>,
    /// What undoes this step if the run fails after it succeeded.
    #[serde(default)]
    pub compensation: Option<Compensation>,
}

/// Retries with exponential backoff: `initial_backoff_ms`, doubling, capped at `max_backoff_ms`,
/// with jitter applied by the scheduler.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct RetryPolicy {
    /// Attempts in all, the first included (default 3, at most 100).
    #[cfg_attr(feature = "openapi", schema(minimum = 1, maximum = 100))]
    #[serde(deserialize_with = "crate::whole::integer")]
    pub max_attempts: u32,
    /// Wait before the second attempt (default 1,000 ms).
    #[serde(deserialize_with = "crate::whole::integer")]
    pub initial_backoff_ms: u64,
    /// Longest wait between attempts (default 32,000 ms, at most 3,600,000); not below
    /// `initial_backoff_ms`.
    #[cfg_attr(feature = "openapi", schema(maximum = 3_600_000))]
    #[serde(deserialize_with = "crate::whole::integer")]
    pub max_backoff_ms: u64,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        Self {
            max_attempts: 3,
            initial_backoff_ms: 1_000,
            max_backoff_ms: 32_000,
        }
    }
}

/// The undo action of a step: another tool call, run by the saga after the run fails.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Compensation {
    #[cfg_attr(feature = "openapi", schema(min_length = 1))]
    pub tool: String,
    /// May reference this step's own output (`{{steps.SELF.output…}}`) and its ancestors'.
    #[serde(default = "empty_object")]
    #[cfg_attr(feature = "openapi", schema(value_type = Object))]
    pub input: Value,
}

fn empty_object() -> Value {
    Value::Object(serde_json::Map::new())
}

fn default_timeout_s() -> u64 {
    300
}

impl Plan {
    /// Parses plan JSON; the error names the line, column and field serde stopped at.
    pub fn from_json(text: &str) -> Result<Self, serde_json::Error> {
        serde_json::from_str(text)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn omitted_fields_take_their_documented_defaults() {
        let plan = Plan::from_json(r#"{"steps":[{"key":"a","agent":"x","tool":"noop"}]}"#).unwrap();
        let step = &plan.steps[0];
        assert_eq!(step.input, serde_json::json!({}));
        assert!(step.depends_on.is_empty());
        assert_eq!(step.retry, RetryPolicy::default());
        assert_eq!(step.retry.max_attempts, 3);
        assert_eq!(step.timeout_s, 300);
        assert_eq!(step.risk, None);
        assert_eq!(step.compensation, None);
    }

    #[test]
    fn misspelt_fields_are_refused_by_name() {
        let err = Plan::from_json(
            r#"{"steps":[{"key":"a","agent":"x","tool":"noop","depend_on":["b"]}]}"#,
        )
        .unwrap_err()
        .to_string();
        assert!(err.contains("unknown field `depend_on`"), "{err}");
    }
}
