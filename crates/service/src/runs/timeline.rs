//! A run's steps over time (a Gantt chart), read from its event log and drawn as SVG markup on
//! the server.
//!
//! Each step gets a row of bars: `waiting` (ready, no worker yet), `approval` (waiting for a
//! person), `running` (leased by a worker), `failed` (an attempt that failed or whose lease
//! ran out), `backoff` (until its retry), `compensation` (its undo running in the saga). Bars
//! still open end at `now`. Colours come from the stylesheet through `tl-{kind}` classes.

use std::fmt::Write;

use chrono::{DateTime, Utc};
use html_escape::encode_text as text;
use switchyard_orchestrator::{EventKind, RunEvent, RunState};

/// One bar.
#[derive(Debug, Clone, PartialEq)]
pub struct Bar {
    /// Row: the step's position in the plan.
    pub step: usize,
    pub kind: &'static str,
    pub start: DateTime<Utc>,
    pub end: DateTime<Utc>,
}

/// Width of the drawing in SVG user units (it scales to its box).
const WIDTH: f64 = 760.0;
const LABEL_W: f64 = 150.0;
const ROW_H: f64 = 24.0;
const AXIS_H: f64 = 24.0;

/// Every bar of run `state`, from its events; open bars end at `now`.
pub fn bars(state: &RunState, events: &[RunEvent], now: DateTime<Utc>) -> Vec<Bar> {
    let index = |key: &str| state.steps.iter().position(|s| s.key == key);
    let n = state.steps.len();
    let start = events.first().map(|e| e.at).unwrap_or(now);
    let mut done_at: Vec<Option<DateTime<Utc>>> = vec![None; n];
    // What each step is doing now, since when: (kind, since).
    let mut open: Vec<Option<(&'static str, DateTime<Utc>)>> = vec![None; n];
    let mut out = Vec::new();
    let mut started = false;
    let mut saga_since = None;
    let gated = |i: usize| state.steps[i].risk >= state.approval_threshold;
    // A step becomes ready when all it depends on succeeded (and the run started).
    let mark_ready = |open: &mut Vec<Option<(&'static str, DateTime<Utc>)>>,
                      done_at: &Vec<Option<DateTime<Utc>>>,
                      at: DateTime<Utc>| {
        for i in 0..n {
            let untouched = open[i].is_none() && done_at[i].is_none();
            if untouched && state.steps[i].deps.iter().all(|&d| done_at[d].is_some()) {
                open[i] = Some((if gated(i) { "approval" } else { "waiting" }, at));
            }
        }
    };
    let close = |out: &mut Vec<Bar>,
                 open: &mut Vec<Option<(&'static str, DateTime<Utc>)>>,
                 i: usize,
                 at: DateTime<Utc>,
                 kind: Option<&'static str>| {
        if let Some((was, since)) = open[i].take() {
            out.push(Bar {
                step: i,
                kind: kind.unwrap_or(was),
                start: since,
                end: at,
            });
        }
    };
    for event in events {
        let at = event.at;
        match &event.kind {
            EventKind::RunStarted => {
                started = true;
                mark_ready(&mut open, &done_at, at);
            }
            EventKind::StepLeased { step, .. } => {
                if let Some(i) = index(step) {
                    close(&mut out, &mut open, i, at, None);
                    open[i] = Some(("running", at));
                }
            }
            EventKind::StepSucceeded { step, .. } => {
                if let Some(i) = index(step) {
                    close(&mut out, &mut open, i, at, None);
                    done_at[i] = Some(at);
                    if started {
                        mark_ready(&mut open, &done_at, at);
                    }
                }
            }
            EventKind::StepFailed { step, retry_at, .. }
            | EventKind::LeaseExpired { step, retry_at, .. } => {
                if let Some(i) = index(step) {
                    close(&mut out, &mut open, i, at, Some("failed"));
                    if let Some(retry) = retry_at {
                        out.push(Bar {
                            step: i,
                            kind: "backoff",
                            start: at,
                            end: *retry,
                        });
                        open[i] = Some(("waiting", *retry));
                    }
                }
            }
            EventKind::StepApproved { step, .. } => {
                if let Some(i) = index(step) {
                    close(&mut out, &mut open, i, at, None);
                    open[i] = Some(("waiting", at));
                }
            }
            EventKind::StepRejected { step, .. } => {
                if let Some(i) = index(step) {
                    close(&mut out, &mut open, i, at, None);
                }
            }
            EventKind::CompensationStarted { .. } => saga_since = Some(at),
            EventKind::StepCompensated { step, .. } => {
                if let (Some(i), Some(since)) = (index(step), saga_since) {
                    out.push(Bar {
                        step: i,
                        kind: "compensation",
                        start: since,
                        end: at,
                    });
                    saga_since = Some(at);
                }
            }
            EventKind::RunSucceeded
            | EventKind::RunFailed { .. }
            | EventKind::RunCancelled { .. } => {
                // Steps that never ran stop waiting when the run ends.
                for i in 0..n {
                    close(&mut out, &mut open, i, at, None);
                }
            }
            _ => {}
        }
    }
    let end = if state.status.is_final() {
        events.last().map(|e| e.at).unwrap_or(now)
    } else {
        now
    };
    for i in 0..n {
        close(&mut out, &mut open, i, end.max(start), None);
    }
    out.sort_by_key(|b| (b.step, b.start));
    out
}

/// `1.2 s`, `340 ms`, `3 min 5 s`.
fn duration(ms: i64) -> String {
    match ms {
        ..1_000 => format!("{ms} ms"),
        1_000..60_000 => format!("{:.1} s", ms as f64 / 1000.0),
        _ => format!("{} min {} s", ms / 60_000, (ms % 60_000) / 1000),
    }
}

/// The chart as an `<svg>` element: one row per step, a time axis from the run's creation.
pub fn svg(state: &RunState, events: &[RunEvent], now: DateTime<Utc>) -> String {
    let bars = bars(state, events, now);
    let start = events.first().map(|e| e.at).unwrap_or(now);
    let span_ms = bars
        .iter()
        .map(|b| (b.end - start).num_milliseconds())
        .max()
        .unwrap_or(0)
        .max(1);
    let rows = state.steps.len().max(1);
    let height = AXIS_H + rows as f64 * ROW_H + 4.0;
    let plot_w = WIDTH - LABEL_W - 12.0;
    let x = |at: DateTime<Utc>| {
        LABEL_W + (at - start).num_milliseconds() as f64 / span_ms as f64 * plot_w
    };
    let mut out = String::with_capacity(1024 + bars.len() * 200);
    let _ = write!(
        out,
        r#"<svg class="timeline" xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH} {height}" preserveAspectRatio="xMinYMin meet" role="img" aria-label="Each step over time, {} in all">"#,
        duration(span_ms)
    );
    for tick in 0..=4 {
        let ms = span_ms * tick / 4;
        let tx = LABEL_W + plot_w * tick as f64 / 4.0;
        let anchor = if tick == 4 { "end" } else { "start" };
        let _ = write!(
            out,
            r#"<line class="tl-grid" x1="{tx}" y1="{AXIS_H}" x2="{tx}" y2="{height}"/><text class="tl-tick" x="{tx}" y="14" text-anchor="{anchor}">{}</text>"#,
            if tick == 0 {
                "0".to_owned()
            } else {
                format!("+{}", duration(ms))
            }
        );
    }
    for (i, step) in state.steps.iter().enumerate() {
        let y = AXIS_H + i as f64 * ROW_H;
        let _ = write!(
            out,
            r#"<text class="tl-label" x="0" y="{}">{}</text>"#,
            y + ROW_H / 2.0 + 4.0,
            text(&step.key.chars().take(22).collect::<String>())
        );
    }
    for bar in &bars {
        let y = AXIS_H + bar.step as f64 * ROW_H + 4.0;
        let x1 = x(bar.start);
        let w = (x(bar.end) - x1).max(2.0);
        let ms = (bar.end - bar.start).num_milliseconds();
        let _ = write!(
            out,
            r#"<rect class="tl-{}" data-step="{}" x="{x1:.1}" y="{y}" width="{w:.1}" height="{}" rx="3"><title>{}: {} {}</title></rect>"#,
            bar.kind,
            html_escape::encode_double_quoted_attribute(&state.steps[bar.step].key),
            ROW_H - 8.0,
            text(&state.steps[bar.step].key),
            bar.kind,
            duration(ms),
        );
    }
    out.push_str("</svg>");
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeDelta;
    use switchyard_orchestrator::Plan;

    fn event(seq: u64, ms: i64, kind: EventKind) -> RunEvent {
        RunEvent {
            seq,
            at: DateTime::from_timestamp(1_800_000_000, 0).unwrap() + TimeDelta::milliseconds(ms),
            kind,
        }
    }

    #[test]
    fn a_retried_step_shows_its_failed_attempt_backoff_and_second_run() {
        let plan: Plan = serde_json::from_value(serde_json::json!({"steps": [
            {"key": "a", "agent": "x", "tool": "noop", "retry": {"max_attempts": 2}},
            {"key": "b", "agent": "x", "tool": "noop", "depends_on": ["a"]},
        ]}))
        .unwrap();
        let at =
            |ms| DateTime::from_timestamp(1_800_000_000, 0).unwrap() + TimeDelta::milliseconds(ms);
        let lease = |seq, ms, step: &str, attempt, token| {
            event(
                seq,
                ms,
                EventKind::StepLeased {
                    step: step.into(),
                    attempt,
                    worker: "w".into(),
                    fencing_token: token,
                    lease_expires_at: at(ms + 30_000),
                },
            )
        };
        let events = vec![
            event(
                1,
                0,
                EventKind::RunCreated {
                    plan,
                    risks: vec![0.0, 0.0],
                    approval_threshold: 0.7,
                    priority: 0,
                    project: "default".into(),
                    started_by: None,
                    goal: None,
                },
            ),
            event(2, 10, EventKind::RunStarted),
            lease(3, 20, "a", 1, 1),
            event(
                4,
                120,
                EventKind::StepFailed {
                    step: "a".into(),
                    fencing_token: 1,
                    error: "boom".into(),
                    retry_at: Some(at(320)),
                },
            ),
            lease(5, 330, "a", 2, 2),
            event(
                6,
                400,
                EventKind::StepSucceeded {
                    step: "a".into(),
                    fencing_token: 2,
                    output: serde_json::json!(null),
                },
            ),
        ];
        let state = RunState::replay(&events).unwrap();
        let kinds: Vec<(usize, &str, i64, i64)> = bars(&state, &events, at(500))
            .iter()
            .map(|b| {
                (
                    b.step,
                    b.kind,
                    (b.start - at(0)).num_milliseconds(),
                    (b.end - at(0)).num_milliseconds(),
                )
            })
            .collect();
        assert_eq!(
            kinds,
            vec![
                (0, "waiting", 10, 20),
                (0, "failed", 20, 120),
                (0, "backoff", 120, 320),
                (0, "waiting", 320, 330),
                (0, "running", 330, 400),
                (1, "waiting", 400, 500),
            ]
        );
        let svg = svg(&state, &events, at(500));
        assert_eq!(svg.matches("<rect class=\"tl-").count(), 6, "{svg}");
        assert!(svg.contains("+500 ms"), "{svg}");
    }

    #[test]
    fn durations_read_at_their_scale() {
        assert_eq!(duration(340), "340 ms");
        assert_eq!(duration(1_240), "1.2 s");
        assert_eq!(duration(185_000), "3 min 5 s");
    }
}
