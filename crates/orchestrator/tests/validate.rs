//! Plan validation against a small catalog: valid plans pass with their order; invalid ones
//! report every problem at once.

use serde_json::json;
use switchyard_orchestrator::catalog::ToolAccess;
use switchyard_orchestrator::{AgentSpec, Catalog, Limits, Plan, ToolSpec, validate};

fn catalog() -> Catalog {
    let tool = |name: &str, schema, risk| ToolSpec {
        name: name.into(),
        description: format!("the {name} tool"),
        input_schema: schema,
        default_risk: risk,
    };
    Catalog::new(
        [
            tool("noop", json!({"type": "object"}), 0.0),
            tool(
                "http",
                json!({
                    "type": "object",
                    "required": ["url"],
                    "properties": {
                        "url": {"type": "string"},
                        "method": {"enum": ["GET", "POST"]}
                    },
                    "additionalProperties": false
                }),
                0.3,
            ),
            tool(
                "sleep",
                json!({
                    "type": "object",
                    "required": ["ms"],
                    "properties": {"ms": {"type": "integer", "minimum": 0, "maximum": 60000}}
                }),
                0.0,
            ),
        ],
        [
            AgentSpec::new("researcher", ToolAccess::Any),
            AgentSpec::new("clerk", ToolAccess::Only(vec!["noop".into()])),
        ],
    )
    .unwrap()
}

fn plan(value: serde_json::Value) -> Plan {
    serde_json::from_value(value).unwrap()
}

/// The problems' one-line renderings, in order.
fn problems(value: serde_json::Value) -> Vec<String> {
    let err = validate(plan(value), &catalog(), &Limits::default()).unwrap_err();
    err.0.iter().map(ToString::to_string).collect()
}

#[test]
fn a_valid_plan_comes_back_with_its_order_and_risks() {
    let valid = validate(
        plan(json!({"steps": [
            {"key": "store", "agent": "clerk", "tool": "noop",
             "input": {"status": "{{steps.fetch.output.status}}", "first": "{{steps.wait.output}}"},
             "depends_on": ["fetch", "wait"],
             "compensation": {"tool": "noop", "input": {"undo": "{{steps.store.output.id}}"}}},
            {"key": "fetch", "agent": "researcher", "tool": "http",
             "input": {"url": "https://example.com", "method": "GET"}},
            {"key": "wait", "agent": "researcher", "tool": "sleep",
             "input": {"ms": "{{steps.fetch.output.delay}}"}, "depends_on": ["fetch"], "risk": 0.9}
        ]})),
        &catalog(),
        &Limits::default(),
    )
    .unwrap();
    assert_eq!(valid.order, [1, 2, 0], "fetch, then wait, then store");
    assert_eq!(
        valid.risks,
        [0.0, 0.3, 0.9],
        "tool default unless the step says"
    );
    assert_eq!(valid.deps, [vec![1, 2], vec![], vec![1]]);
}

#[test]
fn every_problem_is_reported_at_once_with_step_and_field() {
    let found = problems(json!({"steps": [
        {"key": "fetch", "agent": "researcher", "tool": "http",
         "input": {"method": "DELETE", "extra": 1}},
        {"key": "fetch", "agent": "nobody", "tool": "teleport"},
        {"key": "Bad Key", "agent": "clerk", "tool": "http", "input": {"url": "x"},
         "depends_on": ["ghost", "Bad Key"]},
        {"key": "nap", "agent": "researcher", "tool": "sleep", "input": {"ms": -5},
         "retry": {"max_attempts": 0, "initial_backoff_ms": 5000, "max_backoff_ms": 1000},
         "timeout_s": 0, "risk": 1.5,
         "compensation": {"tool": "nope"}}
    ]}));
    let expected = [
        "steps[0] (fetch).input/method: value is not one of \"GET\" or \"POST\"",
        "steps[0] (fetch).input: Additional properties are not allowed ('extra' was unexpected)",
        "steps[0] (fetch).input: \"url\" is a required property",
        "steps[1] (fetch).key: duplicate key (also steps[0])",
        "steps[1] (fetch).agent: unknown agent 'nobody' (known: clerk, researcher)",
        "steps[1] (fetch).tool: unknown tool 'teleport' (known: http, noop, sleep)",
        "steps[2] (Bad Key).key: 'Bad Key' must be 1–64 characters of a–z, 0–9, '_' and '-'",
        "steps[2] (Bad Key).depends_on: unknown step 'ghost'",
        "steps[2] (Bad Key).depends_on: a step cannot depend on itself",
        "steps[2] (Bad Key).tool: agent 'clerk' may not use tool 'http'",
        // Values are masked: an input may hold secrets or megabytes.
        "steps[3] (nap).input/ms: value is less than the minimum of 0",
        "steps[3] (nap).compensation.tool: unknown tool 'nope' (known: http, noop, sleep)",
        "steps[3] (nap).retry.max_attempts: 0 is outside 1–100",
        "steps[3] (nap).retry.initial_backoff_ms: 5000 is larger than max_backoff_ms (1000)",
        "steps[3] (nap).timeout_s: 0 is outside 1–86400",
        "steps[3] (nap).risk: 1.5 is outside 0.0–1.0",
    ];
    assert_eq!(found, expected, "got:\n{}", found.join("\n"));
}

#[test]
fn cycles_are_named_along_their_dependencies() {
    let found = problems(json!({"steps": [
        {"key": "a", "agent": "clerk", "tool": "noop", "depends_on": ["c"]},
        {"key": "b", "agent": "clerk", "tool": "noop", "depends_on": ["a"]},
        {"key": "c", "agent": "clerk", "tool": "noop", "depends_on": ["b"]},
        {"key": "after", "agent": "clerk", "tool": "noop", "depends_on": ["c"]},
        {"key": "x", "agent": "clerk", "tool": "noop", "depends_on": ["y"]},
        {"key": "y", "agent": "clerk", "tool": "noop", "depends_on": ["x"]}
    ]}));
    assert_eq!(
        found,
        [
            "steps[0] (a).depends_on: cycle: a → c → b → a",
            "steps[4] (x).depends_on: cycle: x → y → x",
        ]
    );
}

#[test]
fn templates_may_read_only_upstream_steps() {
    let found = problems(json!({"steps": [
        {"key": "a", "agent": "clerk", "tool": "noop"},
        {"key": "b", "agent": "clerk", "tool": "noop", "input": {
            "sibling": "{{steps.c.output}}",
            "ghost": "{{steps.zzz.output.x}}",
            "me": "{{steps.b.output}}",
            "broken": "{{steps.a}}",
            "open": "{{ steps.a.output"
        }},
        {"key": "c", "agent": "clerk", "tool": "noop", "depends_on": ["a"],
         "input": {"ok": "{{steps.a.output.id}}"},
         "compensation": {"tool": "noop", "input": {"own": "{{steps.c.output}}", "up": "{{steps.a.output}}", "bad": "{{steps.b.output}}"}}}
    ]}));
    // Problems come in step order; within a step's input, in its object's key order (sorted,
    // or as written where serde_json's `preserve_order` is on, as it is in the server).
    let mut found = found;
    found.sort();
    assert_eq!(
        found,
        [
            "steps[1] (b).input/broken: template '{{steps.a}}' is not of the form {{steps.KEY.output.PATH}}",
            "steps[1] (b).input/ghost: reads unknown step 'zzz'",
            "steps[1] (b).input/me: a step cannot read its own output",
            "steps[1] (b).input/open: '{{' without a closing '}}'",
            "steps[1] (b).input/sibling: reads step 'c', which it does not depend on (add it to depends_on)",
            "steps[2] (c).compensation.input/bad: reads step 'b', which it does not depend on (add it to depends_on)",
        ]
    );
}

#[test]
fn templated_values_defer_type_checks_but_literals_do_not() {
    let ok = json!({"steps": [
        {"key": "a", "agent": "researcher", "tool": "noop"},
        {"key": "b", "agent": "researcher", "tool": "sleep", "depends_on": ["a"],
         "input": {"ms": "{{steps.a.output.ms}}"}}
    ]});
    assert!(validate(plan(ok), &catalog(), &Limits::default()).is_ok());
    let found = problems(json!({"steps": [
        {"key": "b", "agent": "researcher", "tool": "sleep", "input": {"ms": "soon"}}
    ]}));
    assert_eq!(
        found,
        ["steps[0] (b).input/ms: value is not of type \"integer\""]
    );
}

#[test]
fn limits_bound_the_plan() {
    let many: Vec<_> = (0..501)
        .map(|i| json!({"key": format!("s{i}"), "agent": "clerk", "tool": "noop"}))
        .collect();
    let found = problems(json!({ "steps": many }));
    assert_eq!(found, ["steps: 501 steps exceed the limit of 500"]);

    let empty = problems(json!({"steps": []}));
    assert_eq!(empty, ["steps: a plan needs at least one step"]);

    let limits = Limits {
        max_input_bytes: 64,
        ..Limits::default()
    };
    let big = plan(json!({"steps": [
        {"key": "a", "agent": "clerk", "tool": "noop", "input": {"blob": "x".repeat(100)}}
    ]}));
    let err = validate(big, &catalog(), &limits).unwrap_err().to_string();
    assert_eq!(
        err,
        "the plan has 1 problem(s): steps[0] (a).input: 111 bytes exceed the limit of 64 bytes"
    );
}

#[test]
fn problems_serialize_for_api_clients() {
    let err = validate(
        plan(json!({"steps": [{"key": "a", "agent": "clerk", "tool": "ghost"}]})),
        &catalog(),
        &Limits::default(),
    )
    .unwrap_err();
    assert_eq!(
        serde_json::to_value(&err).unwrap(),
        json!([{
            "index": 0, "step": "a", "field": "tool",
            "message": "unknown tool 'ghost' (known: http, noop, sleep)"
        }])
    );
}
