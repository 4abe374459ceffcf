//! What each kind of thing puts into the search index: a run (its goal, then each step's tool,
//! output and error as text), a dataset (its name, file and columns), an agent's log line.

use serde_json::Value;
use switchyard_orchestrator::state::RunState;
use switchyard_protocol::dataset::DatasetView;

use super::index::Document;
use crate::brief::{clipped, short_run_id};

/// The most text a document's body keeps.
pub const MAX_BODY: usize = 32 * 1024;

/// Run `id` as it stands.
pub fn run(id: &str, state: &RunState) -> Document {
    let mut body = String::new();
    if let Some(goal) = &state.goal {
        body.push_str(goal);
        body.push('\n');
    }
    for (spec, step) in state.plan.steps.iter().zip(&state.steps) {
        body.push_str(&format!("{} · {}", spec.key, spec.tool));
        if let Some(output) = &step.output {
            body.push_str(": ");
            text_of(output, &mut body);
        }
        if let Some(error) = &step.error {
            body.push_str(" · error: ");
            body.push_str(error);
        }
        body.push('\n');
        if body.len() > MAX_BODY {
            break;
        }
    }
    Document {
        key: format!("run:{id}"),
        kind: "run",
        project: state.project.clone(),
        title: match &state.goal {
            Some(goal) => clipped(goal, 120),
            None => format!("Run {}", short_run_id(id)),
        },
        body: cut(body),
        href: format!("/runs/{id}"),
    }
}

/// Dataset `d` (its rows are not indexed: the dataset's page reads them).
pub fn dataset(d: &DatasetView) -> Document {
    let columns: Vec<String> = d
        .columns
        .iter()
        .map(|c| format!("{} ({})", c.name, c.kind.as_str()))
        .collect();
    let mut body = format!(
        "dataset {} · {} rows · columns: {}",
        d.name,
        d.rows_written,
        columns.join(", ")
    );
    if let Some(file) = &d.file_name {
        body.push_str(&format!(" · from {file}"));
    }
    Document {
        key: format!("dataset:{}", d.id),
        kind: "dataset",
        project: d.project.clone(),
        title: d.name.clone(),
        body: cut(body),
        href: format!("/datasets/{}", d.id),
    }
}

/// A log line an agent reported.
pub fn log_line(id: &str, project: &str, source: &str, level: &str, message: &str) -> Document {
    Document {
        key: format!("log:{id}"),
        kind: "log",
        project: project.to_owned(),
        title: format!("{source} · {level}"),
        body: cut(message.to_owned()),
        href: format!("/logs?source={source}"),
    }
}

/// A JSON value as words: strings as they are, numbers and booleans as text, object keys
/// before their values.
fn text_of(value: &Value, out: &mut String) {
    if out.len() > MAX_BODY {
        return;
    }
    match value {
        Value::Null => {}
        Value::String(s) => {
            out.push_str(s);
            out.push(' ');
        }
        Value::Bool(_) | Value::Number(_) => {
            out.push_str(&value.to_string());
            out.push(' ');
        }
        Value::Array(items) => items.iter().for_each(|v| text_of(v, out)),
        Value::Object(map) => {
            for (key, v) in map {
                out.push_str(key);
                out.push_str(": ");
                text_of(v, out);
            }
        }
    }
}

/// At most [`MAX_BODY`] bytes, cut on a character boundary.
fn cut(mut text: String) -> String {
    if text.len() > MAX_BODY {
        let mut end = MAX_BODY;
        while !text.is_char_boundary(end) {
            end -= 1;
        }
        text.truncate(end);
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_outputs_read_as_words() {
        let mut out = String::new();
        text_of(
            &serde_json::json!({"status": 200, "body": ["zephyrine", {"ok": true}]}),
            &mut out,
        );
        assert_eq!(out, "status: 200 body: zephyrine ok: true ");
        assert_eq!(cut("é".repeat(MAX_BODY)).len(), MAX_BODY);
    }
}
