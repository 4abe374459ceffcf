//! `POST /api/v1/events` and `GET /api/v1/events` with `auth_required` on: agents report logs
//! and metrics into their project; bad input is refused whole, naming the field; the route's
//! own body limit; the `event_ingest` kill switch; scopes and projects.

mod common;

use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use common::app::Harness;
use serde_json::{Value, json};
use switchyard_auth::api_keys::{self, NewKey, Scope};
use switchyard_auth::kill::{Capability, KillSwitches};
use switchyard_auth::{Role, projects, users};

fn call(method: &str, path: &str, bearer: &str, body: Option<String>) -> Request<Body> {
    let builder = Request::builder()
        .method(method)
        .uri(path)
        .header(header::AUTHORIZATION, format!("Bearer {bearer}"))
        .header(header::CONTENT_TYPE, "application/json");
    builder
        .body(body.map_or_else(Body::empty, Body::from))
        .unwrap()
}

async fn key(h: &Harness, project: &str, scopes: &[Scope]) -> String {
    api_keys::create(
        &h.db,
        &NewKey {
            name: "agent",
            project,
            scopes,
            workflows: &[],
            rate_per_min: 10_000,
            max_concurrency: 8,
            created_by: "test",
        },
    )
    .await
    .unwrap()
    .1
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn agents_report_into_their_project_and_bad_batches_write_nothing() {
    let mut h = Harness::new().await;
    for name in ["alpha", "beta"] {
        projects::create(&h.db, name, "test").await.unwrap();
    }
    h.auth.required = true;
    let agent = key(&h, "alpha", &[Scope::EventsIngest]).await;
    let reader = key(&h, "alpha", &[Scope::RunsRead]).await;
    let outsider = key(&h, "beta", &[Scope::RunsRead]).await;

    let batch = json!({"events": [
        {"kind": "log", "source": "agent-a", "message": "first", "at_ms": 1_000},
        {"kind": "log", "source": "agent-a", "level": "warn", "message": "second", "at_ms": 2_000},
        {"kind": "metric", "source": "agent-a", "name": "tokens", "value": 12.5, "at_ms": 2_000},
        {"kind": "metric", "source": "agent-a", "name": "tokens", "value": 30.0, "at_ms": 3_000}
    ]});
    let (status, answer) = h
        .json(call(
            "POST",
            "/api/v1/events",
            &agent,
            Some(batch.to_string()),
        ))
        .await;
    assert_eq!(status, StatusCode::ACCEPTED, "{answer}");
    assert_eq!(answer, json!({"project": "alpha", "logs": 2, "metrics": 2}));
    let latest = h
        .store
        .latest("alpha/agent-a/tokens")
        .await
        .unwrap()
        .unwrap();
    assert_eq!((latest.at_ms, latest.value), (3_000, 30.0));

    // Read back, newest first, by a reader of the same project; another project's key gets
    // the same 404 as a project that does not exist.
    let (status, lines) = h.json(call("GET", "/api/v1/events", &reader, None)).await;
    assert_eq!(status, StatusCode::OK, "{lines}");
    let messages: Vec<&str> = lines
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l["message"].as_str().unwrap())
        .collect();
    assert_eq!(messages, ["second", "first"]);
    assert_eq!(lines[0]["level"], "warn");
    let (status, body) = h
        .json(call("GET", "/api/v1/events?project=alpha", &outsider, None))
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND, "{body}");
    let (status, lines) = h.json(call("GET", "/api/v1/events", &outsider, None)).await;
    assert_eq!((status, lines), (StatusCode::OK, json!([])));

    // Bad batches: refused whole, naming what is wrong; nothing of them is stored.
    let refusals: [(Value, &str); 5] = [
        (json!({"events": []}), "send 1 to 1000 events, not 0"),
        (
            json!({"events": [{"kind": "log", "source": "a", "message": "ok"},
                              {"kind": "log", "source": "a", "level": "loud", "message": "x"}]}),
            "events[1].level: 'loud' is not one of debug, info, warn, error",
        ),
        (
            json!({"events": [{"kind": "metric", "source": "a/b", "name": "n", "value": 1}]}),
            "events[0].source",
        ),
        (
            json!({"events": [{"kind": "trace", "source": "a"}]}),
            "unknown variant `trace`",
        ),
        (
            json!({"events": vec![json!({"kind": "log", "source": "a", "message": "m"}); 1001]}),
            "send 1 to 1000 events, not 1001",
        ),
    ];
    for (batch, says) in refusals {
        let (status, body) = h
            .json(call(
                "POST",
                "/api/v1/events",
                &agent,
                Some(batch.to_string()),
            ))
            .await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
        assert!(body.to_string().contains(says), "{says}: {body}");
    }
    let (_, lines) = h.json(call("GET", "/api/v1/events", &reader, None)).await;
    assert_eq!(
        lines.as_array().unwrap().len(),
        2,
        "nothing of a refused batch is stored"
    );

    // Per-route body limits: 2 MiB is fine for ingest (4 MiB) and too much for runs (1 MiB).
    let big = json!({"events": [{"kind": "log", "source": "a", "message": "x".repeat(2 << 20)}]});
    let (status, body) = h
        .json(call(
            "POST",
            "/api/v1/events",
            &agent,
            Some(big.to_string()),
        ))
        .await;
    assert_eq!(status, StatusCode::ACCEPTED, "{body}");
    let admin = users::create(
        &h.db,
        "admin@example.com",
        "a long enough password",
        Role::Admin,
    )
    .await
    .unwrap();
    let token = h
        .auth
        .keys
        .issue(&admin.id, Role::Admin, chrono::Utc::now().timestamp());
    let big_plan = json!({"plan": {"steps": [{"key": "a", "agent": "default", "tool": "noop",
                                              "input": {"pad": "x".repeat(2 << 20)}}]}});
    let (status, _, body) = h
        .send(call(
            "POST",
            "/api/v1/runs",
            &token,
            Some(big_plan.to_string()),
        ))
        .await;
    assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE, "{body}");
    let huge = json!({"events": [{"kind": "log", "source": "a", "message": "x".repeat(5 << 20)}]});
    let (status, _, _) = h
        .send(call(
            "POST",
            "/api/v1/events",
            &agent,
            Some(huge.to_string()),
        ))
        .await;
    assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE);

    // Scopes, and the kill switch with its reason.
    let (status, _) = h
        .json(call(
            "POST",
            "/api/v1/events",
            &reader,
            Some(batch.to_string()),
        ))
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    KillSwitches::new(h.db.clone())
        .switch_off(
            Capability::EventIngest,
            "noisy agent under investigation",
            "admin",
        )
        .await
        .unwrap();
    let (status, body) = h
        .json(call(
            "POST",
            "/api/v1/events",
            &agent,
            Some(batch.to_string()),
        ))
        .await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE, "{body}");
    assert!(
        body.to_string().contains("noisy agent under investigation"),
        "{body}"
    );
}
