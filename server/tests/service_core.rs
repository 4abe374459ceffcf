//! One home per use case: the REST API and the pages' server functions answer from the same
//! service, so they agree — the health document, and a run's state.

mod common;

use std::time::Duration;

use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use common::app::{Harness, get, post_json};
use serde_json::{Value, json};

/// A server function's JSON answer (form-encoded arguments, as the browser sends them).
async fn server_fn(h: &Harness, endpoint: &str, form: &str) -> (StatusCode, Value) {
    h.json(
        Request::post(format!("/api/fn/{endpoint}"))
            .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
            .header(header::ACCEPT, "application/json")
            .body(Body::from(form.to_owned()))
            .unwrap(),
    )
    .await
}

/// The document without its one field that moves on its own (whole seconds of uptime).
fn steady(mut health: Value) -> Value {
    health.as_object_mut().unwrap().remove("uptime_s");
    health
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_dashboard_and_the_api_show_the_same_health_document() {
    let h = Harness::new().await;
    let (status, api) = h.json(get("/api/v1/health")).await;
    assert_eq!(status, StatusCode::OK, "{api}");
    let (status, page) = server_fn(&h, "system_health", "").await;
    assert_eq!(status, StatusCode::OK, "{page}");
    // The parts the dashboard used to leave out are there on both sides.
    for part in ["store", "inference", "database"] {
        assert!(api.get(part).is_some(), "API health lacks {part}: {api}");
    }
    assert_eq!(steady(api), steady(page));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_runs_page_and_the_api_read_the_same_run() {
    let h = Harness::new().await;
    let plan = json!({"steps": [
        {"key": "a", "agent": "default", "tool": "noop"},
        {"key": "b", "agent": "default", "tool": "noop", "depends_on": ["a"]}
    ]});
    let (status, created) = h
        .json(post_json("/api/v1/runs", &json!({"plan": plan})))
        .await;
    assert_eq!(status, StatusCode::CREATED, "{created}");
    let id = created["id"].as_str().unwrap().to_owned();
    let mut api = Value::Null;
    for _ in 0..2_000 {
        (_, api) = h.json(get(&format!("/api/v1/runs/{id}"))).await;
        if api["status"] == "succeeded" {
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    assert_eq!(api["status"], "succeeded", "{api}");
    let (status, page) = server_fn(&h, "run_detail", &format!("id={id}")).await;
    assert_eq!(status, StatusCode::OK, "{page}");
    assert_eq!(page["status"], api["status"]);
    assert_eq!(page["events"], api["last_seq"]);
    let keys = |steps: &Value, field: &str| -> Vec<String> {
        steps
            .as_array()
            .unwrap()
            .iter()
            .map(|s| s[field].as_str().unwrap().to_owned())
            .collect()
    };
    assert_eq!(keys(&page["steps"], "key"), keys(&api["steps"], "key"));
    assert_eq!(
        keys(&page["steps"], "status"),
        keys(&api["steps"], "status")
    );

    // A run that does not exist: the same 404 from both.
    let (status, body) = h.json(get("/api/v1/runs/no-such-run")).await;
    assert_eq!(status, StatusCode::NOT_FOUND, "{body}");
    let (status, _, body) = h
        .send(
            Request::post("/api/fn/run_detail")
                .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
                .body(Body::from("id=no-such-run"))
                .unwrap(),
        )
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND, "{body}");
    assert!(body.contains("run no-such-run not found"), "{body}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_limit_above_the_maximum_is_refused_not_clamped() {
    let h = Harness::new().await;
    let (status, body) = h.json(get("/api/v1/runs?limit=501")).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("limit 501"),
        "{body}"
    );
    let (status, body) = h.json(get("/api/v1/runs?limit=500")).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    // The document states the bound the API enforces.
    let (_, doc) = h.json(get("/api/v1/openapi.json")).await;
    let limit = doc["paths"]["/api/v1/runs"]["get"]["parameters"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["name"] == "limit")
        .unwrap()
        .clone();
    assert_eq!(limit["schema"]["maximum"], 500, "{limit}");
    assert_eq!(limit["schema"]["minimum"], 1, "{limit}");
}

/// Polls run `id` until it ends (20 s at most).
async fn ended(h: &Harness, id: &str) -> Value {
    for _ in 0..2_000 {
        let (_, run) = h.json(get(&format!("/api/v1/runs/{id}"))).await;
        if matches!(
            run["status"].as_str(),
            Some("succeeded" | "failed" | "cancelled")
        ) {
            return run;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    panic!("run {id} never ended");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_run_page_links_a_child_run_and_its_parent_both_ways() {
    let h = Harness::new().await;
    let plan = json!({"steps": [{"key": "child", "agent": "default", "tool": "subrun",
        "input": {"plan": {"steps": [{"key": "inner", "agent": "default", "tool": "noop"}]}}}]});
    let (status, created) = h
        .json(post_json("/api/v1/runs", &json!({"plan": plan})))
        .await;
    assert_eq!(status, StatusCode::CREATED, "{created}");
    let parent = created["id"].as_str().unwrap().to_owned();
    let run = ended(&h, &parent).await;
    assert_eq!(run["status"], "succeeded", "{run}");
    let child = run["steps"][0]["output"]["run_id"]
        .as_str()
        .unwrap()
        .to_owned();
    let (_, page) = server_fn(&h, "run_detail", &format!("id={parent}")).await;
    assert_eq!(page["children"], json!([child]), "{page}");
    assert_eq!(page["parent"], Value::Null);
    let (_, page) = server_fn(&h, "run_detail", &format!("id={child}")).await;
    assert_eq!(page["parent"], json!(parent), "{page}");
    assert_eq!(page["children"], json!([]));

    // The top bar's search finds both by part of their id.
    let tail = &child[child.len() - 8..];
    let (status, hits) = server_fn(&h, "search_all", &format!("text={tail}")).await;
    assert_eq!(status, StatusCode::OK, "{hits}");
    assert_eq!(hits[0]["href"], format!("/runs/{child}"), "{hits}");
    assert_eq!(hits[0]["kind"], "run");
    let (_, none) = server_fn(&h, "search_all", "text=x").await;
    assert_eq!(none, json!([]), "one character finds nothing");
}
