//! Runs as the web app shows them.

use serde::{Deserialize, Serialize};

/// One row of the runs table.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RunRow {
    pub id: String,
    /// `queued`, `running`, `paused`, `awaiting_approval`, `compensating`, `succeeded`,
    /// `failed` or `cancelled`.
    pub status: String,
    /// Events recorded so far.
    pub events: u64,
    /// Why the run failed or was cancelled.
    pub reason: Option<String>,
    /// The project it belongs to.
    pub project: String,
    /// RFC 3339, UTC.
    pub created_at: String,
    pub updated_at: String,
}

/// One run with its steps, for the run's page.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RunDetail {
    pub id: String,
    pub status: String,
    pub project: String,
    pub reason: Option<String>,
    pub events: u64,
    pub steps: Vec<StepDetail>,
}

/// One step of a run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StepDetail {
    pub key: String,
    pub agent: String,
    pub tool: String,
    /// As `RunRow::status`, for steps: `pending`, `ready`, `leased`, `succeeded`, `failed` …
    pub status: String,
    pub attempt: u32,
    pub max_attempts: u32,
    /// What the agent produced, as Markdown: a string output, an object's `text` field, or
    /// the JSON in a code block. Rendered sanitised.
    pub output: Option<String>,
    pub error: Option<String>,
}

/// One problem with a plan written in the browser, placed where it belongs: the step (its
/// position and key as written) and the field, or the whole plan when it is not JSON.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PlanIssue {
    /// Position of the step in `steps`, when the problem belongs to one.
    pub index: Option<usize>,
    /// The step's key as written.
    pub step: Option<String>,
    /// e.g. `tool`, `depends_on`, `input/url`; `json` when the text does not parse.
    pub field: String,
    pub message: String,
}

/// An agent's output as Markdown: a string as it is, an object's string `text` (the
/// convention for model and agent answers) as it is, anything else as JSON in a code block.
pub fn output_markdown(output: &serde_json::Value) -> String {
    match output {
        serde_json::Value::String(text) => text.clone(),
        serde_json::Value::Object(fields) if fields.get("text").is_some_and(|t| t.is_string()) => {
            fields["text"].as_str().unwrap_or_default().to_owned()
        }
        other => format!(
            "```json\n{}\n```",
            serde_json::to_string_pretty(other).unwrap_or_default()
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn outputs_become_markdown() {
        assert_eq!(output_markdown(&serde_json::json!("**hi**")), "**hi**");
        assert_eq!(
            output_markdown(&serde_json::json!({"text": "# t", "n": 1})),
            "# t"
        );
        assert_eq!(
            output_markdown(&serde_json::json!({"n": 1})),
            "```json\n{\n  \"n\": 1\n}\n```"
        );
    }
}
