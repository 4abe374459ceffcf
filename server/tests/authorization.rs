//! The authorization matrix with `auth_required` on: every `/api/v1` runs route × every kind
//! of caller (no credentials, a bad token, each role, API keys of each scope, a revoked
//! key). Printed as a table; zero unauthorized 2xx, and every refusal is the right one (401
//! without valid credentials, 403 without the permission). Also API-key rate limits under a
//! burst and immediate revocation.

mod common;

use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use common::app::{Harness, post_json};
use serde_json::json;
use switchyard_auth::api_keys::{self, NewKey, Scope};
use switchyard_auth::{Permission, Role, users};

struct Caller {
    name: &'static str,
    bearer: Option<String>,
    /// The permissions it holds; `None`: no valid credentials at all.
    holds: Option<Vec<Permission>>,
}

async fn key(h: &Harness, name: &'static str, scopes: &[Scope], rate: u32) -> String {
    api_keys::create(
        &h.db,
        &NewKey {
            name,
            project: "default",
            scopes,
            rate_per_min: rate,
            max_concurrency: 64,
            created_by: "test",
        },
    )
    .await
    .unwrap()
    .1
}

fn request(method: &str, path: &str, bearer: Option<&str>) -> Request<Body> {
    let mut builder = Request::builder().method(method).uri(path);
    if let Some(token) = bearer {
        builder = builder.header(header::AUTHORIZATION, format!("Bearer {token}"));
    }
    if method == "POST" || method == "PUT" {
        let body = if path == "/api/v1/runs" {
            json!({"plan": {"steps": [{"key": "a", "agent": "default", "tool": "noop"}]}})
        } else if path.ends_with("/approve") || path.ends_with("/reject") {
            json!({"rationale": "matrix test"})
        } else if path == "/api/v1/admin/users" {
            json!({"email": "made@example.com", "password": "a long enough password", "role": "viewer"})
        } else if path == "/api/v1/admin/keys" {
            json!({"name": "made", "scopes": ["runs:read"]})
        } else if path.ends_with("/disable") || path.ends_with("/enable") {
            json!({})
        } else {
            json!({"reason": "matrix test"})
        };
        builder
            .header(header::CONTENT_TYPE, "application/json")
            .body(Body::from(body.to_string()))
            .unwrap()
    } else {
        builder.body(Body::empty()).unwrap()
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_route_by_every_caller_allows_only_what_the_matrix_says() {
    let mut h = Harness::new().await;
    // A finished run to point the per-run routes at (created before auth is switched on).
    let (status, created) = h
        .json(post_json(
            "/api/v1/runs",
            &json!({"plan": {"steps": [{"key": "a", "agent": "default", "tool": "noop"}]}}),
        ))
        .await;
    assert_eq!(status, StatusCode::CREATED);
    let run = created["id"].as_str().unwrap().to_owned();
    h.auth.required = true;

    let now = chrono::Utc::now().timestamp();
    let mut callers = vec![
        Caller {
            name: "nobody",
            bearer: None,
            holds: None,
        },
        Caller {
            name: "bad token",
            bearer: Some("not-a-token".into()),
            holds: None,
        },
    ];
    for (name, role) in [
        ("admin", Role::Admin),
        ("operator", Role::Operator),
        ("viewer", Role::Viewer),
    ] {
        let user = users::create(
            &h.db,
            &format!("{name}@example.com"),
            "a long enough password",
            role,
        )
        .await
        .unwrap();
        let holds = Permission::ALL
            .into_iter()
            .filter(|p| role.allows(*p))
            .collect();
        callers.push(Caller {
            name,
            bearer: Some(h.auth.keys.issue(&user.id, role, now)),
            holds: Some(holds),
        });
    }
    callers.push(Caller {
        name: "key runs:read",
        bearer: Some(key(&h, "r", &[Scope::RunsRead], 10_000).await),
        holds: Some(vec![Permission::ReadRuns]),
    });
    callers.push(Caller {
        name: "key runs:write",
        bearer: Some(key(&h, "w", &[Scope::RunsWrite], 10_000).await),
        holds: Some(vec![Permission::WriteRuns]),
    });
    callers.push(Caller {
        name: "key approve",
        bearer: Some(key(&h, "a", &[Scope::Approve], 10_000).await),
        holds: Some(vec![Permission::Approve]),
    });
    callers.push(Caller {
        name: "key admin",
        bearer: Some(key(&h, "root", &[Scope::Admin], 10_000).await),
        holds: Some(Permission::ALL.to_vec()),
    });
    let revoked = key(&h, "x", &[Scope::Admin], 10_000).await;
    let revoked_id = revoked["sy_".len()..].split('_').next().unwrap().to_owned();
    api_keys::revoke(&h.db, &revoked_id).await.unwrap();
    callers.push(Caller {
        name: "revoked key",
        bearer: Some(revoked),
        holds: None,
    });

    let routes: Vec<(&str, String, Permission)> = vec![
        ("GET", "/api/v1/runs".into(), Permission::ReadRuns),
        ("POST", "/api/v1/runs".into(), Permission::WriteRuns),
        ("GET", format!("/api/v1/runs/{run}"), Permission::ReadRuns),
        (
            "GET",
            format!("/api/v1/runs/{run}/events"),
            Permission::ReadRuns,
        ),
        (
            "GET",
            format!("/api/v1/runs/{run}/stream"),
            Permission::ReadRuns,
        ),
        (
            "POST",
            format!("/api/v1/runs/{run}/cancel"),
            Permission::WriteRuns,
        ),
        (
            "POST",
            format!("/api/v1/runs/{run}/pause"),
            Permission::WriteRuns,
        ),
        (
            "POST",
            format!("/api/v1/runs/{run}/resume"),
            Permission::WriteRuns,
        ),
        (
            "POST",
            format!("/api/v1/runs/{run}/steps/a/approve"),
            Permission::Approve,
        ),
        (
            "POST",
            format!("/api/v1/runs/{run}/steps/a/reject"),
            Permission::Approve,
        ),
        ("GET", "/api/v1/approvals".into(), Permission::ReadRuns),
        ("GET", "/api/v1/admin/users".into(), Permission::ManageUsers),
        (
            "POST",
            "/api/v1/admin/users".into(),
            Permission::ManageUsers,
        ),
        (
            "POST",
            "/api/v1/admin/users/no-such-user/disable".into(),
            Permission::ManageUsers,
        ),
        (
            "POST",
            "/api/v1/admin/users/no-such-user/enable".into(),
            Permission::ManageUsers,
        ),
        ("GET", "/api/v1/admin/keys".into(), Permission::ManageKeys),
        ("POST", "/api/v1/admin/keys".into(), Permission::ManageKeys),
        (
            "DELETE",
            "/api/v1/admin/keys/no-such-key".into(),
            Permission::ManageKeys,
        ),
        (
            "GET",
            "/api/v1/admin/switches".into(),
            Permission::KillSwitch,
        ),
        (
            "PUT",
            "/api/v1/admin/switches/http_tool".into(),
            Permission::KillSwitch,
        ),
        (
            "DELETE",
            "/api/v1/admin/switches/http_tool".into(),
            Permission::KillSwitch,
        ),
        ("GET", "/api/v1/admin/audit".into(), Permission::ReadAudit),
        (
            "GET",
            "/api/v1/admin/audit/verify".into(),
            Permission::ReadAudit,
        ),
    ];

    let mut table = format!("{:<48}", "route");
    for caller in &callers {
        table += &format!(" {:>14}", caller.name);
    }
    let mut wrong = Vec::new();
    let mut unauthorized_2xx = 0;
    for (method, path, needs) in &routes {
        let shown = path.replace(&run, "{id}");
        table += &format!("\n{:<48}", format!("{method} {shown}"));
        for caller in &callers {
            let (status, _, _) = h
                .send(request(method, path, caller.bearer.as_deref()))
                .await;
            table += &format!(" {:>14}", status.as_u16());
            let expected_refusal = match &caller.holds {
                None => Some(StatusCode::UNAUTHORIZED),
                Some(held) if !held.contains(needs) => Some(StatusCode::FORBIDDEN),
                Some(_) => None,
            };
            match expected_refusal {
                Some(refusal) => {
                    if status.is_success() {
                        unauthorized_2xx += 1;
                    }
                    if status != refusal {
                        wrong.push(format!(
                            "{method} {shown} as {}: {status}, expected {refusal}",
                            caller.name
                        ));
                    }
                }
                None => {
                    if matches!(status, StatusCode::UNAUTHORIZED | StatusCode::FORBIDDEN) {
                        wrong.push(format!(
                            "{method} {shown} as {}: {status}, expected it allowed",
                            caller.name
                        ));
                    }
                }
            }
        }
    }
    println!("{table}\n\nunauthorized 2xx: {unauthorized_2xx}");
    assert_eq!(unauthorized_2xx, 0, "{table}");
    assert!(wrong.is_empty(), "{wrong:#?}\n{table}");
    // Public routes stay public.
    let (status, _, _) = h.send(request("GET", "/api/v1/health", None)).await;
    assert_eq!(status, StatusCode::OK);

    // Every refusal and every mutation is in the audit log, and the chain holds.
    let log = switchyard_auth::audit::list(&h.db, 0, 10_000, None, None)
        .await
        .unwrap();
    let refusals = log
        .iter()
        .filter(|r| r.entry.result.starts_with("denied"))
        .count();
    let expected_refusals: usize = routes
        .iter()
        .map(|(_, _, needs)| {
            callers
                .iter()
                .filter(|c| c.holds.as_ref().is_none_or(|held| !held.contains(needs)))
                .count()
        })
        .sum();
    assert_eq!(refusals, expected_refusals);
    assert!(log.iter().any(|r| r.entry.actor == "viewer@example.com"
        && r.entry.action == "POST /api/v1/runs"
        && r.entry.result == "denied: needs WriteRuns"));
    assert!(log.iter().any(|r| r.entry.actor == "anonymous"
        && r.entry.result.starts_with("denied: send Authorization")));
    let created = log
        .iter()
        .filter(|r| r.entry.action == "runs.create" && r.entry.result == "ok")
        .map(|r| r.entry.actor.as_str())
        .collect::<Vec<_>>();
    assert_eq!(
        created[..3],
        [
            "local-operator",
            "admin@example.com",
            "operator@example.com"
        ]
    );
    assert_eq!(created.len(), 5, "{created:?}");
    assert!(created[3..].iter().all(|actor| actor.starts_with("key:")));
    assert!(log.iter().any(|r| r.entry.action == "users.create"
        && r.entry.actor == "admin@example.com"
        && r.entry.result == "ok"));
    assert!(
        log.iter()
            .any(|r| r.entry.action == "switch.off" && r.entry.result == "ok: matrix test")
    );
    assert!(
        log.iter()
            .any(|r| r.entry.action == "runs.cancel" && r.entry.result.starts_with("failed:"))
    );
    assert!(matches!(
        switchyard_auth::audit::verify(&h.db).await.unwrap(),
        switchyard_auth::audit::Verdict::Intact { .. }
    ));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_key_burst_is_held_to_its_rate_with_retry_after_and_revocation_is_immediate() {
    let mut h = Harness::new().await;
    h.auth.required = true;
    let secret = key(&h, "bursty", &[Scope::RunsRead], 60).await;
    let (mut ok, mut limited) = (0, 0);
    for _ in 0..200 {
        let (status, headers, body) = h.send(request("GET", "/api/v1/runs", Some(&secret))).await;
        match status {
            StatusCode::OK => ok += 1,
            StatusCode::TOO_MANY_REQUESTS => {
                limited += 1;
                assert!(body.contains("rate_limited"), "{body}");
                let wait: u64 = headers[header::RETRY_AFTER]
                    .to_str()
                    .unwrap()
                    .parse()
                    .unwrap();
                assert!((1..=2).contains(&wait), "Retry-After {wait}");
            }
            other => panic!("{other}: {body}"),
        }
    }
    println!("burst of 200 at 60/min: {ok} admitted, {limited} refused");
    assert!(
        (57..=63).contains(&ok),
        "{ok} admitted; the limit is 60 ± 5 %"
    );
    assert_eq!(ok + limited, 200);

    let id = secret["sy_".len()..].split('_').next().unwrap().to_owned();
    let other = key(&h, "steady", &[Scope::RunsRead], 10_000).await;
    let (status, _, _) = h.send(request("GET", "/api/v1/runs", Some(&other))).await;
    assert_eq!(status, StatusCode::OK);
    let other_id = other["sy_".len()..].split('_').next().unwrap().to_owned();
    api_keys::revoke(&h.db, &other_id).await.unwrap();
    let (status, _, body) = h.send(request("GET", "/api/v1/runs", Some(&other))).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "{body}");
    assert!(body.contains("revoked"), "{body}");
    let _ = id;
}
