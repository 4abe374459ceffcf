//! A run's plan drawn as a graph, as SVG markup, on the server: the run's page shows it in its
//! first paint and swaps in a fresh drawing as events arrive.
//!
//! Layout: steps in columns by depth (the longest chain of dependencies before them), left to
//! right; within a column, ordered by the mean row of what they depend on, then plan order, so
//! edges cross little. Colours come from the page's stylesheet through classes (`s-{status}`),
//! not from here. Every text a plan supplies (keys, tools) is escaped.

use std::fmt::Write;

use html_escape::{encode_double_quoted_attribute as attr, encode_text as text};
use switchyard_orchestrator::{RunState, StepStatus};

/// A node's box, in SVG user units.
const NODE_W: f64 = 176.0;
const NODE_H: f64 = 48.0;
const COLUMN_GAP: f64 = 56.0;
const ROW_GAP: f64 = 18.0;
const PAD: f64 = 12.0;
/// Room under the nodes for the saga's arcs.
const SAGA_ROOM: f64 = 44.0;
/// Longest key shown whole in a node; longer ones are cut with an ellipsis (the title has it).
const KEY_CHARS: usize = 20;

/// Where each step sits: `(column, row)`, in plan order.
pub fn layout(state: &RunState) -> Vec<(usize, usize)> {
    let n = state.steps.len();
    let mut depth = vec![None::<usize>; n];
    fn depth_of(i: usize, state: &RunState, depth: &mut [Option<usize>]) -> usize {
        if let Some(d) = depth[i] {
            return d;
        }
        // The plan was validated acyclic; a guard keeps a bad state from recursing forever.
        depth[i] = Some(0);
        let d = state.steps[i]
            .deps
            .iter()
            .filter(|&&dep| dep < state.steps.len())
            .map(|&dep| depth_of(dep, state, depth) + 1)
            .max()
            .unwrap_or(0);
        depth[i] = Some(d);
        d
    }
    let columns: Vec<usize> = (0..n).map(|i| depth_of(i, state, &mut depth)).collect();
    let mut rows = vec![0usize; n];
    let last = columns.iter().copied().max().unwrap_or(0);
    for column in 0..=last {
        let mut members: Vec<usize> = (0..n).filter(|&i| columns[i] == column).collect();
        let mean_parent_row = |i: usize| -> f64 {
            let deps = &state.steps[i].deps;
            if deps.is_empty() {
                return i as f64;
            }
            deps.iter().map(|&d| rows[d] as f64).sum::<f64>() / deps.len() as f64
        };
        members.sort_by(|&a, &b| {
            mean_parent_row(a)
                .total_cmp(&mean_parent_row(b))
                .then(a.cmp(&b))
        });
        for (row, i) in members.into_iter().enumerate() {
            rows[i] = row;
        }
    }
    columns.into_iter().zip(rows).collect()
}

/// The saga's order, once it runs: compensated steps first, then those still to undo.
fn saga_order(state: &RunState) -> Vec<usize> {
    let index = |key: &String| state.steps.iter().position(|s| &s.key == key);
    state
        .compensated
        .iter()
        .chain(state.compensation_queue.iter())
        .filter_map(index)
        .collect()
}

/// The graph as an `<svg>` element.
pub fn svg(state: &RunState) -> String {
    let places = layout(state);
    let columns = places.iter().map(|p| p.0 + 1).max().unwrap_or(1);
    let rows = places.iter().map(|p| p.1 + 1).max().unwrap_or(1);
    let saga = saga_order(state);
    let width = PAD * 2.0 + columns as f64 * NODE_W + (columns - 1) as f64 * COLUMN_GAP;
    let height = PAD * 2.0
        + rows as f64 * NODE_H
        + (rows - 1) as f64 * ROW_GAP
        + if saga.len() > 1 { SAGA_ROOM } else { 0.0 };
    let origin = |i: usize| {
        let (column, row) = places[i];
        (
            PAD + column as f64 * (NODE_W + COLUMN_GAP),
            PAD + row as f64 * (NODE_H + ROW_GAP),
        )
    };
    let mut out = String::with_capacity(1024 + state.steps.len() * 640);
    let _ = write!(
        out,
        r#"<svg class="dag" xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" width="{width}" height="{height}" role="img" aria-label="The run's steps and what each waits for">"#
    );
    out.push_str(
        r#"<defs><marker id="dag-arrow" viewBox="0 0 8 8" refX="7" refY="4" markerWidth="7" markerHeight="7" orient="auto-start-reverse"><path d="M0 0 L8 4 L0 8 z" class="dag-arrowhead"/></marker></defs>"#,
    );
    for (i, step) in state.steps.iter().enumerate() {
        for &dep in step.deps.iter().filter(|&&d| d < state.steps.len()) {
            let (fx, fy) = origin(dep);
            let (tx, ty) = origin(i);
            let (x1, y1, x2, y2) = (fx + NODE_W, fy + NODE_H / 2.0, tx - 2.0, ty + NODE_H / 2.0);
            let bend = COLUMN_GAP / 2.0;
            let done = if state.steps[dep].status == StepStatus::Succeeded {
                " dag-edge-done"
            } else {
                ""
            };
            let _ = write!(
                out,
                r#"<path class="dag-edge{done}" d="M{x1} {y1} C{} {y1} {} {y2} {x2} {y2}" marker-end="url(#dag-arrow)"/>"#,
                x1 + bend,
                x2 - bend,
            );
        }
    }
    for pair in saga.windows(2) {
        let (ax, ay) = origin(pair[0]);
        let (bx, by) = origin(pair[1]);
        let (x1, y1, x2, y2) = (
            ax + NODE_W / 2.0,
            ay + NODE_H,
            bx + NODE_W / 2.0,
            by + NODE_H + 2.0,
        );
        let low = y1.max(y2) + SAGA_ROOM - 8.0;
        let _ = write!(
            out,
            r#"<path class="dag-saga" d="M{x1} {y1} C{x1} {low} {x2} {low} {x2} {y2}" marker-end="url(#dag-arrow)"><title>undone after {}</title></path>"#,
            text(&state.steps[pair[0]].key),
        );
    }
    for (i, step) in state.steps.iter().enumerate() {
        let spec = &state.plan.steps[i];
        let (x, y) = origin(i);
        let status = step.status.as_str();
        let gated = step.risk >= state.approval_threshold;
        let key: String = if step.key.chars().count() > KEY_CHARS {
            step.key.chars().take(KEY_CHARS - 1).chain(['…']).collect()
        } else {
            step.key.clone()
        };
        let mut title = format!(
            "{}: {} · {} · attempt {} of {}",
            step.key,
            spec.tool,
            status.replace('_', " "),
            step.attempt,
            step.max_attempts
        );
        if gated {
            let _ = write!(title, " · needs approval (risk {:.2})", step.risk);
        }
        if let Some(undo) = &spec.compensation {
            let _ = write!(title, " · undone by {}", undo.tool);
        }
        let _ = write!(
            out,
            r#"<g class="dag-node s-{status}" data-step="{}" data-status="{status}" transform="translate({x} {y})"><title>{}</title><rect width="{NODE_W}" height="{NODE_H}" rx="8"/><text x="12" y="20" class="dag-key">{}</text><text x="12" y="38" class="dag-sub">{} · {}</text>"#,
            attr(&step.key),
            text(&title),
            text(&key),
            text(&spec.tool),
            status.replace('_', " "),
        );
        let mut badges = Vec::new();
        if step.attempt > 1 {
            badges.push(format!("↻{}", step.attempt));
        }
        if gated {
            badges.push("⚑".to_owned());
        }
        if spec.compensation.is_some() {
            badges.push("↺".to_owned());
        }
        if !badges.is_empty() {
            let _ = write!(
                out,
                r#"<text x="{}" y="20" text-anchor="end" class="dag-badge">{}</text>"#,
                NODE_W - 10.0,
                badges.join(" ")
            );
        }
        out.push_str("</g>");
    }
    out.push_str("</svg>");
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use switchyard_orchestrator::{Plan, RunEvent};

    fn state(plan: serde_json::Value) -> RunState {
        let plan: Plan = serde_json::from_value(plan).unwrap();
        let risks = vec![0.0; plan.steps.len()];
        let created = RunEvent {
            seq: 1,
            at: chrono::Utc::now(),
            kind: switchyard_orchestrator::EventKind::RunCreated {
                plan,
                risks,
                approval_threshold: 0.7,
                priority: 0,
                project: "default".into(),
                started_by: None,
                goal: None,
            },
        };
        RunState::replay([&created]).unwrap()
    }

    #[test]
    fn columns_follow_the_longest_chain_and_rows_follow_parents() {
        let run = state(serde_json::json!({"steps": [
            {"key": "a", "agent": "x", "tool": "noop"},
            {"key": "b", "agent": "x", "tool": "noop"},
            {"key": "c", "agent": "x", "tool": "noop", "depends_on": ["b"]},
            {"key": "d", "agent": "x", "tool": "noop", "depends_on": ["a", "c"]},
        ]}));
        assert_eq!(layout(&run), vec![(0, 0), (0, 1), (1, 0), (2, 0)]);
    }

    #[test]
    fn the_drawing_escapes_what_the_plan_says_and_marks_each_step() {
        let run = state(serde_json::json!({"steps": [
            {"key": "fetch", "agent": "x", "tool": "noop"},
            {"key": "store", "agent": "x", "tool": "<script>&", "depends_on": ["fetch"]},
        ]}));
        let svg = svg(&run);
        assert!(svg.starts_with("<svg class=\"dag\""), "{svg}");
        assert!(
            svg.contains(r#"data-step="fetch" data-status="pending""#),
            "{svg}"
        );
        assert_eq!(svg.matches("class=\"dag-edge").count(), 1, "{svg}");
        assert!(!svg.contains("<script"), "{svg}");
        assert!(svg.contains("&lt;script&gt;&amp;"), "{svg}");
        assert!(!svg.contains("dag-saga"), "no saga before one runs");
    }
}
