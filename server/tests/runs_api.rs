//! `/api/v1/runs` and `/api/v1/approvals` end to end in-process: real engine, real SQLite.

mod common;

use std::time::Duration;

use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use common::app::{Harness, get, post_json};
use serde_json::{Value, json};

async fn submit(h: &Harness, plan: Value) -> String {
    let (status, body) = h
        .json(post_json("/api/v1/runs", &json!({ "plan": plan })))
        .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    body["id"].as_str().unwrap().to_owned()
}

/// Polls the run until its status is `want` (20 s at most).
async fn wait_status(h: &Harness, id: &str, want: &str) -> Value {
    for _ in 0..2_000 {
        let (status, run) = h.json(get(&format!("/api/v1/runs/{id}"))).await;
        assert_eq!(status, StatusCode::OK, "{run}");
        if run["status"] == want {
            return run;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    panic!("run {id} never became {want}");
}

fn step(key: &str, tool: &str, deps: &[&str]) -> Value {
    json!({"key": key, "agent": "default", "tool": tool, "depends_on": deps})
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_submitted_run_executes_and_its_log_and_listing_follow() {
    let h = Harness::new().await;
    let id = submit(
        &h,
        json!({"steps": [step("a", "noop", &[]), step("b", "noop", &["a"])]}),
    )
    .await;
    let run = wait_status(&h, &id, "succeeded").await;
    assert_eq!(run["steps"][1]["status"], "succeeded");

    let (status, log) = h.json(get(&format!("/api/v1/runs/{id}/events"))).await;
    assert_eq!(status, StatusCode::OK);
    let kinds: Vec<&str> = log["events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["kind"].as_str().unwrap())
        .collect();
    assert_eq!(
        kinds,
        [
            "run_created",
            "run_started",
            "step_leased",
            "step_succeeded",
            "step_leased",
            "step_succeeded",
            "run_succeeded"
        ]
    );
    let (_, tail) = h
        .json(get(&format!("/api/v1/runs/{id}/events?after=5")))
        .await;
    assert_eq!(tail["events"].as_array().unwrap().len(), 2);

    let (status, list) = h.json(get("/api/v1/runs?status=succeeded")).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(list["runs"][0]["id"], id.as_str());
    assert_eq!(list["runs"][0]["events"], 7);
    let (_, none) = h.json(get("/api/v1/runs?status=failed")).await;
    assert_eq!(none["runs"], json!([]));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_input_is_refused_with_what_is_wrong_and_nothing_is_recorded() {
    let h = Harness::new().await;
    let malformed = Request::post("/api/v1/runs")
        .header(header::CONTENT_TYPE, "application/json")
        .body(Body::from("{\"plan\": {"))
        .unwrap();
    let (status, body) = h.json(malformed).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(body["error"]["code"], "invalid_json");

    let (status, body) = h
        .json(post_json(
            "/api/v1/runs",
            &json!({"plan": {"steps": []}, "priorty": 3}),
        ))
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("unknown field `priorty`"),
        "{body}"
    );

    let bad_plan = json!({"plan": {"steps": [
        step("a", "teleport", &["b"]), step("b", "noop", &["a"])
    ]}});
    let (status, body) = h.json(post_json("/api/v1/runs", &bad_plan)).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(body["error"]["code"], "invalid_plan");
    let problems = body["error"]["details"].as_array().unwrap();
    let messages: Vec<&str> = problems
        .iter()
        .map(|p| p["message"].as_str().unwrap())
        .collect();
    assert!(
        messages
            .iter()
            .any(|m| m.starts_with("unknown tool 'teleport'")),
        "{messages:?}"
    );
    assert!(messages.contains(&"cycle: a → b → a"), "{messages:?}");
    assert_eq!(problems[0]["step"], "a");

    let (status, body) = h.json(get("/api/v1/runs?status=sideways")).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .starts_with("status 'sideways' is not one of")
    );
    let (status, _) = h.json(get("/api/v1/runs?limit=0")).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);

    let (_, list) = h.json(get("/api/v1/runs")).await;
    assert_eq!(list["runs"], json!([]), "nothing was recorded");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unknown_runs_and_steps_are_404s() {
    let h = Harness::new().await;
    for request in [
        get("/api/v1/runs/nope"),
        get("/api/v1/runs/nope/events"),
        post_json("/api/v1/runs/nope/cancel", &json!({})),
        post_json(
            "/api/v1/runs/nope/steps/a/approve",
            &json!({"rationale": "ok"}),
        ),
    ] {
        let uri = request.uri().to_string();
        let (status, body) = h.json(request).await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{uri}: {body}");
        assert_eq!(body["error"]["message"], "run nope not found", "{uri}");
    }
    let id = submit(&h, json!({"steps": [step("gate", "approval", &[])]})).await;
    wait_status(&h, &id, "awaiting_approval").await;
    let (status, body) = h
        .json(post_json(
            &format!("/api/v1/runs/{id}/steps/ghost/approve"),
            &json!({"rationale": "ok"}),
        ))
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(body["error"]["message"], "unknown step 'ghost'");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn approvals_are_listed_decided_once_and_explained_when_refused() {
    let h = Harness::new().await;
    let id = submit(
        &h,
        json!({"steps": [
            {"key": "gate", "agent": "default", "tool": "approval", "input": {"summary": "ship it"}},
            step("after", "noop", &["gate"])
        ]}),
    )
    .await;
    wait_status(&h, &id, "awaiting_approval").await;
    let (status, mut pending) = h.json(get("/api/v1/approvals")).await;
    assert_eq!(status, StatusCode::OK);
    // It waits since the run started (the step has no dependencies): the run_started event.
    let (_, events) = h.json(get(&format!("/api/v1/runs/{id}/events"))).await;
    let started = events["events"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["kind"] == "run_started")
        .unwrap()["at"]
        .clone();
    assert_eq!(pending[0]["waiting_since"], started, "{pending}");
    pending[0].as_object_mut().unwrap().remove("waiting_since");
    assert_eq!(
        pending,
        json!([{"run_id": id, "step": "gate", "agent": "default", "tool": "approval",
                "risk": 1.0, "input": {"summary": "ship it"}}])
    );

    let approve = |step: &str, rationale: &str| {
        post_json(
            &format!("/api/v1/runs/{id}/steps/{step}/approve"),
            &json!({"rationale": rationale}),
        )
    };
    let (status, body) = h.json(approve("gate", "  ")).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(body["error"]["message"], "rationale must not be empty");
    let (status, body) = h.json(approve("after", "why not")).await;
    assert_eq!(status, StatusCode::CONFLICT);
    assert_eq!(
        body["error"]["message"],
        "step 'after' is pending, not awaiting_approval"
    );

    let (status, _) = h.json(approve("gate", "reviewed the diff")).await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let run = wait_status(&h, &id, "succeeded").await;
    assert_eq!(run["steps"][0]["approval"]["by"], "local-operator");
    assert_eq!(
        run["steps"][0]["approval"]["rationale"],
        "reviewed the diff"
    );
    let (status, body) = h.json(approve("gate", "again")).await;
    assert_eq!(status, StatusCode::CONFLICT);
    assert_eq!(body["error"]["message"], "the run is already succeeded");
    let (_, pending) = h.json(get("/api/v1/approvals")).await;
    assert_eq!(pending, json!([]));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pause_resume_and_cancel_refuse_illegal_transitions() {
    let h = Harness::new().await;
    let id = submit(
        &h,
        json!({"steps": [{"key": "wait", "agent": "default", "tool": "sleep", "input": {"ms": 600000}}]}),
    )
    .await;
    wait_status(&h, &id, "running").await;
    let post = |what: &str| {
        Request::post(format!("/api/v1/runs/{id}/{what}"))
            .body(Body::empty())
            .unwrap()
    };

    let (status, body) = h.json(post("resume")).await;
    assert_eq!(status, StatusCode::CONFLICT);
    assert_eq!(body["error"]["message"], "the run is running");
    assert_eq!(h.json(post("pause")).await.0, StatusCode::NO_CONTENT);
    wait_status(&h, &id, "paused").await;
    let (status, body) = h.json(post("pause")).await;
    assert_eq!(status, StatusCode::CONFLICT);
    assert_eq!(body["error"]["message"], "the run is paused");
    assert_eq!(h.json(post("resume")).await.0, StatusCode::NO_CONTENT);

    let cancel = post_json(
        &format!("/api/v1/runs/{id}/cancel"),
        &json!({"reason": "changed my mind"}),
    );
    assert_eq!(h.json(cancel).await.0, StatusCode::NO_CONTENT);
    let run = wait_status(&h, &id, "cancelled").await;
    assert_eq!(
        run["reason"],
        "cancelled by local-operator: changed my mind"
    );
    let (status, body) = h.json(post("cancel")).await;
    assert_eq!(status, StatusCode::CONFLICT);
    assert_eq!(body["error"]["message"], "the run is already cancelled");
    let bad = Request::post(format!("/api/v1/runs/{id}/cancel"))
        .body(Body::from("{oops"))
        .unwrap();
    assert_eq!(h.json(bad).await.0, StatusCode::BAD_REQUEST);
}

/// `(id, kind)` of each SSE message in a finished stream body.
fn sse_events(body: &str) -> Vec<(u64, String)> {
    body.split("\n\n")
        .filter_map(|message| {
            let mut id = None;
            let mut data = None;
            for line in message.lines() {
                if let Some(v) = line
                    .strip_prefix("id: ")
                    .or_else(|| line.strip_prefix("id:"))
                {
                    id = v.trim().parse().ok();
                }
                if let Some(v) = line
                    .strip_prefix("data: ")
                    .or_else(|| line.strip_prefix("data:"))
                {
                    data = serde_json::from_str::<Value>(v.trim()).ok();
                }
            }
            let data = data?;
            assert_eq!(
                Some(data["seq"].as_u64().unwrap()),
                id,
                "the SSE id is the seq"
            );
            Some((id?, data["kind"].as_str().unwrap().to_owned()))
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_event_stream_is_live_resumable_and_ends_with_the_run() {
    let h = Harness::new().await;
    let id = submit(
        &h,
        json!({"steps": [
            {"key": "a", "agent": "default", "tool": "sleep", "input": {"ms": 150}},
            {"key": "b", "agent": "default", "tool": "sleep", "input": {"ms": 150}, "depends_on": ["a"]}
        ]}),
    )
    .await;
    // Connected while the run is in flight: the log so far, then live events, then the end.
    let (status, headers, body) = h.send(get(&format!("/api/v1/runs/{id}/stream"))).await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        headers[header::CONTENT_TYPE]
            .to_str()
            .unwrap()
            .starts_with("text/event-stream")
    );
    let events = sse_events(&body);
    let seqs: Vec<u64> = events.iter().map(|(seq, _)| *seq).collect();
    assert_eq!(
        seqs,
        (1..=seqs.len() as u64).collect::<Vec<_>>(),
        "no gap, no duplicate"
    );
    assert_eq!(events.first().unwrap().1, "run_created");
    assert_eq!(events.last().unwrap().1, "run_succeeded");

    // Reconnecting with the last seq seen sends only what came after.
    let (_, _, tail) = h
        .send(get(&format!("/api/v1/runs/{id}/stream?after=4")))
        .await;
    let tail_seqs: Vec<u64> = sse_events(&tail).iter().map(|(s, _)| *s).collect();
    assert_eq!(tail_seqs, (5..=seqs.len() as u64).collect::<Vec<_>>());
    let resume = Request::get(format!("/api/v1/runs/{id}/stream"))
        .header("last-event-id", (seqs.len() - 1).to_string())
        .body(Body::empty())
        .unwrap();
    let (_, _, last) = h.send(resume).await;
    assert_eq!(
        sse_events(&last),
        vec![(seqs.len() as u64, "run_succeeded".to_owned())]
    );

    let (status, _) = h.json(get("/api/v1/runs/nope/stream")).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_idempotency_key_creates_a_run_once_and_a_bad_one_is_refused() {
    let h = Harness::new().await;
    let body = json!({"plan": {"steps": [step("a", "noop", &[])]}});
    let with_key = |key: &str| {
        let mut request = post_json("/api/v1/runs", &body);
        request
            .headers_mut()
            .insert("idempotency-key", key.parse().unwrap());
        request
    };
    let (first_status, first) = h.json(with_key("order-17")).await;
    assert_eq!(first_status, StatusCode::CREATED, "{first}");
    let (again_status, again) = h.json(with_key("order-17")).await;
    assert_eq!(
        again_status,
        StatusCode::OK,
        "a repeat answers 200: {again}"
    );
    assert_eq!(again["id"], first["id"]);
    let (other_status, other) = h.json(with_key("order-18")).await;
    assert_eq!(other_status, StatusCode::CREATED);
    assert_ne!(other["id"], first["id"]);

    let (status, error) = h.json(with_key(&"k".repeat(300))).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(
        error["error"]["message"]
            .as_str()
            .unwrap()
            .contains("Idempotency-Key"),
        "{error}"
    );
    let (_, list) = h.json(get("/api/v1/runs")).await;
    assert_eq!(
        list["runs"].as_array().unwrap().len(),
        2,
        "nothing else was created"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kill_switches_stop_new_runs_and_the_http_tool_with_their_reason() {
    use switchyard_auth::kill::{Capability, KillSwitches};
    let h = Harness::new().await;
    let switches = KillSwitches::new(h.db.clone());

    // New runs off: 503 with who and why; nothing is created. Back on: accepted again.
    switches
        .switch_off(
            Capability::NewRuns,
            "incident 42: runaway agent",
            "admin@example.com",
        )
        .await
        .unwrap();
    let plan = json!({"steps": [step("a", "noop", &[])]});
    let (status, body) = h
        .json(post_json("/api/v1/runs", &json!({ "plan": plan })))
        .await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE, "{body}");
    assert_eq!(body["error"]["code"], "switched_off");
    assert_eq!(
        body["error"]["message"],
        "starting new runs is switched off by admin@example.com: incident 42: runaway agent"
    );
    let (_, listed) = h.json(get("/api/v1/runs")).await;
    assert_eq!(listed["runs"].as_array().unwrap().len(), 0);
    assert!(switches.switch_on(Capability::NewRuns).await.unwrap());
    submit(&h, plan).await;

    // The http tool off: its step fails at once with the reason, and is not retried.
    switches
        .switch_off(
            Capability::HttpTool,
            "egress under review",
            "admin@example.com",
        )
        .await
        .unwrap();
    let id = submit(
        &h,
        json!({"steps": [{
            "key": "fetch", "agent": "default", "tool": "http",
            "input": {"url": "https://example.com/"},
            "retry": {"max_attempts": 3}
        }]}),
    )
    .await;
    let run = wait_status(&h, &id, "failed").await;
    let fetch = &run["steps"][0];
    assert_eq!(
        (fetch["attempt"].as_u64(), fetch["max_attempts"].as_u64()),
        (Some(1), Some(3)),
        "{fetch}"
    );
    assert!(
        fetch["error"].as_str().is_some_and(|e| e
            .contains("the http tool is switched off by admin@example.com: egress under review")),
        "{fetch}"
    );
    assert_eq!(switches.list().await.unwrap().len(), 1);
}
