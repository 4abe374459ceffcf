//! The notifications bell end to end in-process (real engine, real SQLite): who hears of what
//! (approvers of the project for a step waiting, writers and the starter for a failed run, the
//! starter for a finished one), settled when decided, marked read one by one or all at once,
//! kept per person.

mod common;

use std::time::Duration;

use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use common::app::{Harness, get, post_json};
use serde_json::{Value, json};
use switchyard_auth::{Role, projects, users};

fn as_user(mut request: Request<Body>, token: &str) -> Request<Body> {
    request.headers_mut().insert(
        header::AUTHORIZATION,
        format!("Bearer {token}").parse().unwrap(),
    );
    request
}

/// A user with `role`, a member of `project` unless an admin; their access token.
async fn user(h: &Harness, email: &str, role: Role, project: &str) -> String {
    let made = users::create(&h.db, email, "a long enough password", role)
        .await
        .unwrap();
    if role != Role::Admin {
        projects::add_member(&h.db, project, &made.id)
            .await
            .unwrap();
    }
    h.auth
        .keys
        .issue(&made.id, role, chrono::Utc::now().timestamp())
}

/// The bell of `token` once `until` holds (10 s at most).
async fn bell_when(h: &Harness, token: &str, until: impl Fn(&Value) -> bool) -> Value {
    for _ in 0..1_000 {
        let (status, bell) = h.json(as_user(get("/api/v1/notifications"), token)).await;
        assert_eq!(status, StatusCode::OK, "{bell}");
        if until(&bell) {
            return bell;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    let (_, bell) = h.json(as_user(get("/api/v1/notifications"), token)).await;
    panic!("the bell never got there: {bell}");
}

fn kinds(bell: &Value) -> Vec<String> {
    let mut kinds: Vec<String> = bell["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| n["kind"].as_str().unwrap().to_owned())
        .collect();
    kinds.sort();
    kinds
}

async fn submit(h: &Harness, token: &str, steps: Value) -> String {
    let (status, created) = h
        .json(as_user(
            post_json(
                "/api/v1/runs",
                &json!({"plan": {"steps": steps}, "project": "alpha"}),
            ),
            token,
        ))
        .await;
    assert_eq!(status, StatusCode::CREATED, "{created}");
    created["id"].as_str().unwrap().to_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_person_hears_of_what_concerns_them() {
    let h = Harness::signed_in().await;
    for name in ["alpha", "beta"] {
        projects::create(&h.db, name, "test").await.unwrap();
    }
    let admin = user(&h, "admin@example.com", Role::Admin, "alpha").await;
    let operator = user(&h, "op@example.com", Role::Operator, "alpha").await;
    let viewer = user(&h, "viewer@example.com", Role::Viewer, "alpha").await;
    let elsewhere = user(&h, "beta-op@example.com", Role::Operator, "beta").await;

    // A step waits for approval: the admin and the project's operator hear of it.
    let gated = submit(
        &h,
        &operator,
        json!([{"key": "gate", "agent": "default", "tool": "approval", "input": {"summary": "deploy"}}]),
    )
    .await;
    let waiting = |bell: &Value| kinds(bell) == ["approval_waiting"] && bell["unread"] == 1;
    let op_bell = bell_when(&h, &operator, waiting).await;
    bell_when(&h, &admin, waiting).await;
    let note = &op_bell["items"][0];
    assert_eq!(note["run_id"], gated.as_str());
    assert_eq!(note["step"], "gate");
    assert!(
        note["title"]
            .as_str()
            .unwrap()
            .contains("waits for approval"),
        "{note}"
    );

    // The admin approves: the approval is settled on every bell, and the operator, who
    // started the run, hears that it finished.
    let (status, _) = h
        .json(as_user(
            post_json(
                &format!("/api/v1/runs/{gated}/steps/gate/approve"),
                &json!({"rationale": "fine"}),
            ),
            &admin,
        ))
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let op_bell = bell_when(&h, &operator, |b| {
        kinds(b) == ["approval_waiting", "run_finished"] && b["unread"] == 1
    })
    .await;
    assert!(
        op_bell.to_string().contains("succeeded"),
        "the finished run says how: {op_bell}"
    );
    bell_when(&h, &admin, |b| {
        kinds(b) == ["approval_waiting"] && b["unread"] == 0
    })
    .await;

    // A failed run: everyone who may start runs in the project, and the starter.
    submit(
        &h,
        &admin,
        json!([{"key": "charge", "agent": "default", "tool": "fail",
                "input": {"message": "card declined", "retryable": false}}]),
    )
    .await;
    let op_bell = bell_when(&h, &operator, |b| {
        kinds(b).contains(&"run_failed".to_owned())
    })
    .await;
    assert!(op_bell.to_string().contains("card declined"), "{op_bell}");
    bell_when(&h, &admin, |b| kinds(b).contains(&"run_failed".to_owned())).await;

    // The viewer may not approve or start runs; the other project's operator sees nothing.
    for quiet in [&viewer, &elsewhere] {
        let (_, bell) = h.json(as_user(get("/api/v1/notifications"), quiet)).await;
        assert_eq!(bell["items"], json!([]), "{bell}");
    }

    // Marking read: one, then all; someone else's id changes nothing.
    let first = op_bell["items"][0]["id"].as_str().unwrap().to_owned();
    let (_, after) = h
        .json(as_user(
            post_json("/api/v1/notifications/read", &json!({"ids": [first]})),
            &admin,
        ))
        .await;
    assert!(
        after["unread"].as_i64().unwrap() >= 1,
        "the admin's own are untouched: {after}"
    );
    let (status, after) = h
        .json(as_user(
            post_json("/api/v1/notifications/read", &json!({"ids": [first]})),
            &operator,
        ))
        .await;
    assert_eq!(status, StatusCode::OK);
    let unread_after_one = after["unread"].as_i64().unwrap();
    assert_eq!(
        unread_after_one,
        op_bell["unread"].as_i64().unwrap() - 1,
        "{after}"
    );
    let (_, after) = h
        .json(as_user(
            post_json("/api/v1/notifications/read", &json!({})),
            &operator,
        ))
        .await;
    assert_eq!(after["unread"], 0);
    assert!(
        after["items"]
            .as_array()
            .unwrap()
            .iter()
            .all(|n| n["read"] == true)
    );
    let (status, refused) = h
        .json(as_user(
            post_json(
                "/api/v1/notifications/read",
                &json!({"ids": vec!["x"; 501]}),
            ),
            &operator,
        ))
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{refused}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn with_sign_in_off_the_local_operator_hears_everything() {
    let h = Harness::new().await;
    let (status, created) = h
        .json(post_json(
            "/api/v1/runs",
            &json!({"plan": {"steps": [{"key": "a", "agent": "default", "tool": "noop"}]}}),
        ))
        .await;
    assert_eq!(status, StatusCode::CREATED, "{created}");
    for _ in 0..1_000 {
        let (_, bell) = h.json(get("/api/v1/notifications")).await;
        if bell["unread"] == 1 {
            assert_eq!(kinds(&bell), ["run_finished"]);
            assert_eq!(bell["items"][0]["run_id"], created["id"]);
            return;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    panic!("the local operator never heard that its run finished");
}
