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
    /// The words it was planned from, when it was.
    pub goal: Option<String>,
    /// RFC 3339, UTC.
    pub created_at: String,
    pub updated_at: String,
}

/// A page of the runs table.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RunRows {
    pub rows: Vec<RunRow>,
    /// The cursor of the next (older) page; `None` on the last page.
    pub next: Option<String>,
    /// The projects the caller sees, for the project filter.
    pub projects: Vec<String>,
}

/// What became of one run of a bulk cancel.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BulkOutcome {
    pub id: String,
    /// Why the run was not cancelled; `None` when it was.
    pub refused: Option<String>,
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
    /// The plan as a graph, drawn on the server as SVG markup (every text escaped): a node per
    /// step coloured by status, an edge per dependency, the saga's order dashed once it runs.
    pub graph_svg: String,
    /// The steps over time, drawn on the server as SVG markup: waiting, approval, running,
    /// failed attempts, backoff and compensation as bars.
    pub timeline_svg: String,
    /// The newest events, oldest first (at most [`HISTORY_LIMIT`]; `events` counts them all).
    pub history: Vec<EventRow>,
    /// How the run's goal was planned; `None` for a run submitted with a plan.
    pub planning: Option<PlanningView>,
    /// The run this one runs again (its "Run again"), if it is a rerun.
    pub rerun_of: Option<String>,
    /// The runs that run this one's plan again, oldest first.
    pub reruns: Vec<String>,
    /// The run whose `subrun` step started this one, if one did.
    #[serde(default)]
    pub parent: Option<String>,
    /// The runs this one's `subrun` steps started, oldest first.
    #[serde(default)]
    pub children: Vec<String>,
    /// The workflow template (name, version) this run was started from, if the caller may
    /// read it.
    #[serde(default)]
    pub workflow: Option<(String, i64)>,
}

/// How a goal became the run's plan: the model's tries, or the plan cache's answer.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PlanningView {
    pub goal: String,
    pub model: String,
    /// What the plan cache did, in words (`None` when the cache is off).
    pub cache: Option<String>,
    /// Whether the plan cache answered (no model call).
    pub cache_hit: bool,
    pub attempts: Vec<PlanAttemptView>,
}

/// One try of the model at planning a goal.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PlanAttemptView {
    /// The prompt's messages: `(role, content)`.
    pub prompt: Vec<(String, String)>,
    /// The model's answer, as it came.
    pub raw_output: String,
    /// Why it was refused; empty for the accepted one.
    pub problems: Vec<String>,
    /// The model's figures for this try, in a line (see [`StepDetail::figures`]).
    pub figures: Option<String>,
}

/// Most events a run's page lists; the API pages through all of them.
pub const HISTORY_LIMIT: usize = 500;

/// One event of a run's log, as its page lists it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EventRow {
    pub seq: u64,
    /// RFC 3339, UTC, milliseconds.
    pub at: String,
    /// The event's `kind` tag, e.g. `step_leased`.
    pub kind: String,
    /// The step it is about, if any.
    pub step: Option<String>,
    /// What else it says, in a line (attempt and worker, error, who and why).
    pub detail: String,
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
    /// The keys of the steps it waits for.
    pub depends_on: Vec<String>,
    /// 0 harmless … 1 irreversible; at or above the run's threshold it waits for a person.
    pub risk: f64,
    /// Whether a person must approve it before it runs.
    pub gated: bool,
    /// What the agent produced, as Markdown: a string output, an object's `text` field, or
    /// the JSON in a code block. Rendered sanitised.
    pub output: Option<String>,
    pub error: Option<String>,
    /// For a step that called a model (`llm`): model, tokens, queue wait, time to first token
    /// and tokens/s, in a line.
    pub figures: Option<String>,
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

/// A model call's figures (its `usage`: `model`, `prompt_tokens`, `completion_tokens`,
/// `queue_wait_ms`, `ttft_ms`, `decode_tok_s`) in a line; `None` when `usage` is not one.
pub fn usage_line(usage: &serde_json::Value) -> Option<String> {
    let number = |name: &str| usage.get(name).and_then(serde_json::Value::as_f64);
    let model = usage.get("model")?.as_str()?;
    let prompt = number("prompt_tokens")?;
    let completion = number("completion_tokens")?;
    let mut line = format!("{model} · {prompt} prompt + {completion} completion tokens");
    if let Some(wait) = number("queue_wait_ms") {
        line.push_str(&format!(" · queue {wait:.0} ms"));
    }
    if let Some(ttft) = number("ttft_ms") {
        line.push_str(&format!(" · first token {ttft:.0} ms"));
    }
    if let Some(rate) = number("decode_tok_s") {
        line.push_str(&format!(" · {rate:.1} tokens/s"));
    }
    Some(line)
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
    fn usage_reads_as_one_line() {
        let usage = serde_json::json!({"model": "tiny", "prompt_tokens": 312, "completion_tokens": 88,
            "queue_wait_ms": 0.4, "ttft_ms": 12.2, "decode_tok_s": 95.06, "total_ms": 900.0});
        assert_eq!(
            usage_line(&usage).as_deref(),
            Some(
                "tiny · 312 prompt + 88 completion tokens · queue 0 ms · first token 12 ms · 95.1 tokens/s"
            )
        );
        assert_eq!(usage_line(&serde_json::json!({"model": "tiny"})), None);
    }

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

/// One hit of the top bar's search beyond the product's sections: a run or a workflow
/// template the caller may see.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SearchHit {
    /// `run` or `workflow`.
    pub kind: String,
    /// The run's id, or the template's name.
    pub title: String,
    /// The run's status and project, or the template's description.
    pub detail: String,
    /// Its page.
    pub href: String,
}

/// One notification of the bell.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Notification {
    pub id: String,
    /// `approval_waiting`, `run_failed` or `run_finished`.
    pub kind: String,
    pub run_id: String,
    /// The step waiting for approval; empty for the others.
    pub step: String,
    pub project: String,
    pub title: String,
    pub created_at_ms: i64,
    pub read: bool,
}

/// The bell: the newest notifications and how many are unread.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Notifications {
    pub items: Vec<Notification>,
    pub unread: i64,
}
