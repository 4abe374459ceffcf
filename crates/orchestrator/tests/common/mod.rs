//! Shared by the orchestrator's integration tests: a one-tool catalog and a run's first event.

use chrono::{DateTime, TimeZone, Utc};
use serde_json::{Value, json};
use switchyard_orchestrator::catalog::ToolAccess;
use switchyard_orchestrator::{
    AgentSpec, Catalog, Limits, Plan, RunEvent, ToolSpec, decide, validate,
};

/// When every test run starts.
pub fn start_time() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 21, 12, 0, 0).unwrap()
}

/// `run_created` (seq 1) for `plan`, validated against a catalog of one `noop` tool and one
/// agent, `ops`, that may use any tool.
pub fn created(plan: Value, priority: i32) -> RunEvent {
    let catalog = Catalog::new(
        [ToolSpec {
            name: "noop".into(),
            description: String::new(),
            input_schema: json!({"type": "object"}),
            default_risk: 0.0,
        }],
        [AgentSpec::new("ops", ToolAccess::Any)],
    )
    .unwrap();
    let plan: Plan = serde_json::from_value(plan).unwrap();
    let valid = validate(plan, &catalog, &Limits::default()).unwrap();
    RunEvent {
        seq: 1,
        at: start_time(),
        kind: decide::create(
            valid,
            decide::DEFAULT_APPROVAL_THRESHOLD,
            decide::Origin {
                priority,
                project: "default".into(),
                ..Default::default()
            },
        ),
    }
}
