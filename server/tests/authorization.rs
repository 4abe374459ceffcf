//! The authorization matrix with `auth_required` on: every `/api/v1` runs route × every kind
//! of caller (no credentials, a bad token, each role, API keys of each scope, a revoked
//! key). Printed as a table; zero unauthorized 2xx, and every refusal is the right one (401
//! without valid credentials, 403 without the permission). Also API-key rate limits under a
//! burst and immediate revocation.
//!
//! Over 600 lines on purpose: the matrix (routes, server functions, callers, expected
//! refusals) is one table that must be read and changed together.

mod common;

use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use common::app::{Harness, post_json};
use serde_json::json;
use switchyard_auth::api_keys::{self, NewKey, Scope};
use switchyard_auth::{Permission, Role, projects, users};

struct Caller {
    name: &'static str,
    bearer: Option<String>,
    /// The session cookie a browser would send (users only: keys have no session).
    cookie: Option<String>,
    /// The permissions it holds; `None`: no valid credentials at all.
    holds: Option<Vec<Permission>>,
    /// Whether it sees every project (admins); others see `alpha` only.
    sees_all: bool,
}

async fn key(h: &Harness, name: &'static str, scopes: &[Scope], rate: u32) -> String {
    api_keys::create(
        &h.db,
        &NewKey {
            name,
            project: "alpha",
            scopes,
            workflows: &[],
            rate_per_min: rate,
            max_concurrency: 64,
            created_by: "test",
        },
    )
    .await
    .unwrap()
    .1
}

/// One route of the matrix.
struct Route {
    method: &'static str,
    path: String,
    needs: Permission,
    /// Another permission that allows it as well (reading a workflow template: reading runs,
    /// or running workflows).
    or: Option<Permission>,
    /// It names a resource in project `beta`, which only admins see: 404 for the rest.
    foreign: bool,
    body: Option<serde_json::Value>,
}

fn route(method: &'static str, path: impl Into<String>, needs: Permission) -> Route {
    Route {
        method,
        path: path.into(),
        needs,
        or: None,
        foreign: false,
        body: None,
    }
}

/// A template in `project` whose plan runs `noop` with an optional parameter.
fn template_body(name: &str, project: &str) -> serde_json::Value {
    json!({"name": name, "project": project,
           "params_schema": {"type": "object", "properties": {"note": {"type": "string"}}},
           "plan": {"steps": [{"key": "a", "agent": "default", "tool": "noop", "input": {"note": "{{params.note}}"}}]}})
}

fn default_body(path: &str) -> serde_json::Value {
    if path == "/api/v1/runs" {
        json!({"plan": {"steps": [{"key": "a", "agent": "default", "tool": "noop"}]}})
    } else if path.ends_with("/approve") || path.ends_with("/reject") {
        json!({"rationale": "matrix test"})
    } else if path == "/api/v1/admin/users" {
        json!({"email": "made@example.com", "role": "viewer", "projects": ["alpha"]})
    } else if path.ends_with("/role") {
        json!({"role": "viewer"})
    } else if path == "/api/v1/admin/projects" {
        json!({"name": "made"})
    } else if path == "/api/v1/admin/keys" {
        json!({"name": "made", "scopes": ["runs:read"], "project": "alpha"})
    } else if path.ends_with("/disable") || path.ends_with("/enable") || path.contains("/members/")
    {
        json!({})
    } else {
        json!({"reason": "matrix test"})
    }
}

fn request(route: &Route, bearer: Option<&str>) -> Request<Body> {
    let mut builder = Request::builder().method(route.method).uri(&route.path);
    if let Some(token) = bearer {
        builder = builder.header(header::AUTHORIZATION, format!("Bearer {token}"));
    }
    if matches!(route.method, "POST" | "PUT") {
        let body = route
            .body
            .clone()
            .unwrap_or_else(|| default_body(&route.path));
        builder
            .header(header::CONTENT_TYPE, "application/json")
            .body(Body::from(body.to_string()))
            .unwrap()
    } else {
        builder.body(Body::empty()).unwrap()
    }
}

/// A server function call as the browser makes it: a form post with the session cookie.
fn server_fn_request(endpoint: &str, form: &str, cookie: Option<&str>) -> Request<Body> {
    let mut builder = Request::builder()
        .method("POST")
        .uri(format!("/api/fn/{endpoint}"))
        .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
        .header(header::ACCEPT, "application/json");
    if let Some(token) = cookie {
        builder = builder.header(header::COOKIE, format!("switchyard_access={token}"));
    }
    builder.body(Body::from(form.to_owned())).unwrap()
}

/// A one-row dataset written into `project` (before sign-in is required); its id.
async fn dataset(h: &Harness, project: &str) -> String {
    let who = switchyard_service::Principal::local_operator(
        h.db.clone(),
        switchyard_service::Client::default(),
        "matrix".into(),
    );
    let check = h
        .service
        .check_upload(
            &who,
            switchyard_service::datasets::Upload {
                format: Some(switchyard_protocol::dataset::Format::Csv),
                ..Default::default()
            },
            std::io::Cursor::new(b"a,b\n1,2\n".to_vec()),
        )
        .await
        .unwrap();
    let dataset = h
        .service
        .write_dataset(
            &who,
            switchyard_protocol::dataset::WriteDataset {
                upload: check.upload,
                name: format!("matrix-{project}"),
                project: Some(project.into()),
            },
        )
        .await
        .unwrap();
    for _ in 0..200 {
        let view = h.service.dataset(&who, &dataset.id).await.unwrap();
        if view.status != switchyard_protocol::dataset::DatasetStatus::Writing {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    dataset.id
}

async fn submit(h: &mut Harness, project: &str) -> String {
    let (status, created) = h
        .json(post_json(
            "/api/v1/runs",
            &json!({"plan": {"steps": [{"key": "a", "agent": "default", "tool": "noop"}]},
                    "project": project}),
        ))
        .await;
    assert_eq!(status, StatusCode::CREATED, "{created}");
    created["id"].as_str().unwrap().to_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_route_by_every_caller_allows_only_what_the_matrix_says() {
    let mut h = Harness::new().await;
    // Two projects; the non-admin users and every key belong to `alpha`. Runs to point the
    // per-run routes at, made before auth is switched on: one in each project.
    for name in ["alpha", "beta"] {
        projects::create(&h.db, name, "test").await.unwrap();
    }
    let own = submit(&mut h, "alpha").await;
    let foreign = submit(&mut h, "beta").await;
    // A dataset in each project.
    let own_dataset = dataset(&h, "alpha").await;
    let foreign_dataset = dataset(&h, "beta").await;
    // A workflow template in each project, each run once.
    let mut template_runs = Vec::new();
    for (name, project) in [("tpl-alpha", "alpha"), ("tpl-beta", "beta")] {
        let (status, body) = h
            .json(post_json(
                "/api/v1/workflows",
                &template_body(name, project),
            ))
            .await;
        assert_eq!(status, StatusCode::CREATED, "{body}");
        let (status, run) = h
            .json(post_json(
                &format!("/api/v1/workflows/{name}/runs"),
                &json!({}),
            ))
            .await;
        assert_eq!(status, StatusCode::CREATED, "{run}");
        template_runs.push(run["id"].as_str().unwrap().to_owned());
    }
    let (status, body) = h
        .json(post_json(
            "/api/v1/runs",
            &json!({"plan": {"steps": [{"key": "a", "agent": "default", "tool": "noop"}]},
                    "project": "gamma"}),
        ))
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND, "an unknown project: {body}");
    assert!(
        body.to_string().contains("no project named gamma"),
        "{body}"
    );
    h.auth.required = true;

    let now = chrono::Utc::now().timestamp();
    let mut callers = vec![
        Caller {
            name: "nobody",
            bearer: None,
            cookie: None,
            holds: None,
            sees_all: false,
        },
        Caller {
            name: "bad token",
            bearer: Some("not-a-token".into()),
            cookie: Some("not-a-token".into()),
            holds: None,
            sees_all: false,
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
        if role != Role::Admin {
            projects::add_member(&h.db, "alpha", &user.id)
                .await
                .unwrap();
        }
        let holds = Permission::ALL
            .into_iter()
            .filter(|p| role.allows(*p))
            .collect();
        let token = h.auth.keys.issue(&user.id, role, now);
        callers.push(Caller {
            name,
            bearer: Some(token.clone()),
            cookie: Some(token),
            holds: Some(holds),
            sees_all: role == Role::Admin,
        });
    }
    for (name, scopes, holds) in [
        ("key runs:read", Scope::RunsRead, vec![Permission::ReadRuns]),
        (
            "key runs:write",
            Scope::RunsWrite,
            vec![Permission::WriteRuns, Permission::RunWorkflows],
        ),
        ("key approve", Scope::Approve, vec![Permission::Approve]),
        (
            "key workflows",
            Scope::WorkflowsRun,
            vec![Permission::RunWorkflows],
        ),
        ("key admin", Scope::Admin, Permission::ALL.to_vec()),
    ] {
        callers.push(Caller {
            name,
            bearer: Some(key(&h, name, &[scopes], 10_000).await),
            cookie: None,
            holds: Some(holds),
            sees_all: false,
        });
    }
    let revoked = key(&h, "x", &[Scope::Admin], 10_000).await;
    let revoked_id = revoked["sy_".len()..].split('_').next().unwrap().to_owned();
    api_keys::revoke(&h.db, &revoked_id).await.unwrap();
    callers.push(Caller {
        name: "revoked key",
        bearer: Some(revoked),
        cookie: None,
        holds: None,
        sees_all: false,
    });

    let mut routes = vec![
        route("GET", "/api/v1/runs", Permission::ReadRuns),
        route("POST", "/api/v1/runs", Permission::WriteRuns),
        Route {
            foreign: true,
            body: Some(
                json!({"plan": {"steps": [{"key": "a", "agent": "default", "tool": "noop"}]},
                              "project": "beta"}),
            ),
            ..route("POST", "/api/v1/runs", Permission::WriteRuns)
        },
    ];
    for (run, foreign) in [(&own, false), (&foreign, true)] {
        for (method, tail, needs) in [
            ("GET", "", Permission::ReadRuns),
            ("GET", "/events", Permission::ReadRuns),
            ("GET", "/stream", Permission::ReadRuns),
            ("POST", "/cancel", Permission::WriteRuns),
            ("POST", "/pause", Permission::WriteRuns),
            ("POST", "/resume", Permission::WriteRuns),
            ("POST", "/steps/a/approve", Permission::Approve),
            ("POST", "/steps/a/reject", Permission::Approve),
        ] {
            routes.push(Route {
                foreign,
                ..route(method, format!("/api/v1/runs/{run}{tail}"), needs)
            });
        }
    }
    let log = |project: Option<&str>| {
        let mut body = json!({"events": [{"kind": "log", "source": "matrix", "message": "x"}]});
        if let Some(project) = project {
            body["project"] = json!(project);
        }
        Some(body)
    };
    routes.extend([
        Route {
            body: log(None),
            ..route("POST", "/api/v1/events", Permission::IngestEvents)
        },
        Route {
            body: log(Some("beta")),
            foreign: true,
            ..route("POST", "/api/v1/events", Permission::IngestEvents)
        },
        route("GET", "/api/v1/events", Permission::ReadRuns),
        Route {
            foreign: true,
            ..route("GET", "/api/v1/events?project=beta", Permission::ReadRuns)
        },
        // Naming a project one does not see lists nothing, as for runs (tests/datasets.rs
        // checks that the list is empty).
        route("GET", "/api/v1/datasets", Permission::ReadRuns),
        route("GET", "/api/v1/datasets?project=beta", Permission::ReadRuns),
        Route {
            body: Some(json!({"n": 1})),
            ..route(
                "POST",
                "/api/v1/datasets/check?format=jsonl",
                Permission::IngestEvents,
            )
        },
        Route {
            body: Some(json!({"upload": "no-such", "name": "x"})),
            ..route("POST", "/api/v1/datasets", Permission::IngestEvents)
        },
        Route {
            body: Some(json!({"upload": "no-such", "name": "x", "project": "beta"})),
            foreign: true,
            ..route("POST", "/api/v1/datasets", Permission::IngestEvents)
        },
        Route {
            body: Some(json!({})),
            ..route(
                "POST",
                "/api/v1/datasets/check/no-such",
                Permission::IngestEvents,
            )
        },
        // The search index keeps to the caller's projects (tests/query.rs checks what it finds).
        route("GET", "/api/v1/search?q=matrix", Permission::ReadRuns),
        route("GET", "/api/v1/approvals", Permission::ReadRuns),
        route("GET", "/api/v1/notifications", Permission::ReadRuns),
        Route {
            body: Some(json!({"ids": []})),
            ..route("POST", "/api/v1/notifications/read", Permission::ReadRuns)
        },
        route("GET", "/api/v1/admin/users", Permission::ManageUsers),
        route("POST", "/api/v1/admin/users", Permission::ManageUsers),
        route(
            "POST",
            "/api/v1/admin/users/no-such-user/disable",
            Permission::ManageUsers,
        ),
        route(
            "POST",
            "/api/v1/admin/users/no-such-user/enable",
            Permission::ManageUsers,
        ),
        route(
            "PUT",
            "/api/v1/admin/users/no-such-user/role",
            Permission::ManageUsers,
        ),
        route("GET", "/api/v1/admin/projects", Permission::ManageUsers),
        route("POST", "/api/v1/admin/projects", Permission::ManageUsers),
        route(
            "PUT",
            "/api/v1/admin/projects/beta/members/no-such-user",
            Permission::ManageUsers,
        ),
        route(
            "DELETE",
            "/api/v1/admin/projects/beta/members/no-such-user",
            Permission::ManageUsers,
        ),
        route("GET", "/api/v1/admin/keys", Permission::ManageKeys),
        route("POST", "/api/v1/admin/keys", Permission::ManageKeys),
        route(
            "DELETE",
            "/api/v1/admin/keys/no-such-key",
            Permission::ManageKeys,
        ),
        route("GET", "/api/v1/admin/switches", Permission::KillSwitch),
        route(
            "PUT",
            "/api/v1/admin/switches/http_tool",
            Permission::KillSwitch,
        ),
        route(
            "DELETE",
            "/api/v1/admin/switches/http_tool",
            Permission::KillSwitch,
        ),
        route("GET", "/api/v1/admin/audit", Permission::ReadAudit),
        route("GET", "/api/v1/admin/audit/verify", Permission::ReadAudit),
        Route {
            or: Some(Permission::RunWorkflows),
            ..route("GET", "/api/v1/workflows", Permission::ReadRuns)
        },
        Route {
            body: Some(template_body("matrix-made", "alpha")),
            ..route("POST", "/api/v1/workflows", Permission::WriteRuns)
        },
        Route {
            body: Some(template_body("matrix-beta", "beta")),
            foreign: true,
            ..route("POST", "/api/v1/workflows", Permission::WriteRuns)
        },
    ]);
    for ((name, foreign), run) in [("tpl-alpha", false), ("tpl-beta", true)]
        .into_iter()
        .zip(&template_runs)
    {
        routes.extend([
            Route {
                or: Some(Permission::RunWorkflows),
                foreign,
                ..route(
                    "GET",
                    format!("/api/v1/workflows/{name}"),
                    Permission::ReadRuns,
                )
            },
            Route {
                body: Some(json!({"note": "matrix"})),
                foreign,
                ..route(
                    "POST",
                    format!("/api/v1/workflows/{name}/runs"),
                    Permission::RunWorkflows,
                )
            },
            Route {
                foreign,
                ..route(
                    "GET",
                    format!("/api/v1/workflows/{name}/runs/{run}/stream"),
                    Permission::RunWorkflows,
                )
            },
        ]);
    }

    for (dataset, foreign) in [(&own_dataset, false), (&foreign_dataset, true)] {
        routes.extend([
            Route {
                foreign,
                ..route(
                    "GET",
                    format!("/api/v1/datasets/{dataset}"),
                    Permission::ReadRuns,
                )
            },
            Route {
                foreign,
                ..route(
                    "GET",
                    format!("/api/v1/datasets/{dataset}/rows"),
                    Permission::ReadRuns,
                )
            },
        ]);
    }
    // (Deleting is checked in tests/datasets.rs: an admin's delete here would turn the
    // next callers' audited refusals into plain 404s.)

    let mut table = format!("{:<56}", "route (own = project alpha, foreign = beta)");
    for caller in &callers {
        table += &format!(" {:>14}", caller.name);
    }
    let mut wrong = Vec::new();
    let mut unauthorized_2xx = 0;
    let mut expected_refusals = 0;
    for r in &routes {
        let shown = format!(
            "{} {}{}",
            r.method,
            r.path
                .replace(&own, "{own}")
                .replace(&foreign, "{foreign}")
                .replace(&own_dataset, "{own}")
                .replace(&foreign_dataset, "{foreign}"),
            if r.foreign && r.method == "POST" && !r.path.contains("/runs/") {
                " (beta)"
            } else {
                ""
            }
        );
        table += &format!("\n{shown:<56}");
        for caller in &callers {
            let (status, _, _) = h.send(request(r, caller.bearer.as_deref())).await;
            table += &format!(" {:>14}", status.as_u16());
            let expected_refusal = match &caller.holds {
                None => Some(StatusCode::UNAUTHORIZED),
                Some(held)
                    if !held.contains(&r.needs) && !r.or.is_some_and(|or| held.contains(&or)) =>
                {
                    Some(StatusCode::FORBIDDEN)
                }
                Some(_) if r.foreign && !caller.sees_all => Some(StatusCode::NOT_FOUND),
                Some(_) => None,
            };
            match expected_refusal {
                Some(refusal) => {
                    expected_refusals += 1;
                    if status.is_success() {
                        unauthorized_2xx += 1;
                    }
                    if status != refusal {
                        wrong.push(format!(
                            "{shown} as {}: {status}, expected {refusal}",
                            caller.name
                        ));
                    }
                }
                None => {
                    if matches!(status, StatusCode::UNAUTHORIZED | StatusCode::FORBIDDEN) {
                        wrong.push(format!(
                            "{shown} as {}: {status}, expected it allowed",
                            caller.name
                        ));
                    }
                }
            }
        }
    }

    // Server functions, as the pages call them: with the session cookie (API keys have no
    // session, so they are refused like nobody).
    let mut fns: Vec<(&str, String, Option<Permission>, bool)> = [
        ("current_account", "", None),
        ("system_health", "", None),
        ("runs_page", "", Some(Permission::ReadRuns)),
        (
            "cancel_runs",
            "ids=no-such-run&reason=",
            Some(Permission::WriteRuns),
        ),
        ("pending_approvals", "", Some(Permission::ReadRuns)),
        ("approvals_waiting", "", Some(Permission::ReadRuns)),
        (
            "check_plan",
            "plan=%7B%22steps%22%3A%5B%5D%7D",
            Some(Permission::WriteRuns),
        ),
        (
            "start_run",
            "plan=%7B%22steps%22%3A%5B%5D%7D",
            Some(Permission::WriteRuns),
        ),
        ("start_goal", "goal=", Some(Permission::WriteRuns)),
        (
            "change_password",
            "current=wrong+password&new=another+long+password",
            None,
        ),
        ("admin_overview", "", Some(Permission::ManageUsers)),
        (
            "admin_invite_user",
            "email=fn-made%40example.com&role=viewer&project=alpha",
            Some(Permission::ManageUsers),
        ),
        (
            "admin_set_role",
            "user_id=no-such&role=viewer",
            Some(Permission::ManageUsers),
        ),
        (
            "admin_set_disabled",
            "user_id=no-such&disabled=true",
            Some(Permission::ManageUsers),
        ),
        (
            "admin_create_project",
            "name=fn-made",
            Some(Permission::ManageUsers),
        ),
        (
            "admin_add_member",
            "project=beta&email=nobody%40example.com",
            Some(Permission::ManageUsers),
        ),
        (
            "admin_create_key",
            "name=k&project=alpha&scopes=runs%3Aread&rate_per_min=5&max_concurrency=1",
            Some(Permission::ManageKeys),
        ),
        (
            "admin_revoke_key",
            "id=no-such",
            Some(Permission::ManageKeys),
        ),
        (
            "admin_set_switch",
            "capability=http_tool&off=false&reason=",
            Some(Permission::KillSwitch),
        ),
        (
            "admin_audit",
            "text=&denied_only=false",
            Some(Permission::ReadAudit),
        ),
        ("admin_audit_verify", "", Some(Permission::ReadAudit)),
        ("workflow_list", "", Some(Permission::ReadRuns)),
        ("bell", "", Some(Permission::ReadRuns)),
        ("mark_read", "ids=", Some(Permission::ReadRuns)),
        ("search_all", "text=tpl", None),
        ("datasets", "text=", Some(Permission::ReadRuns)),
        ("read_dataset_rows", "id=no-such&offset=0", Some(Permission::ReadRuns)),
        (
            "write_dataset",
            "upload=no-such&name=x",
            Some(Permission::IngestEvents),
        ),
        (
            "recheck_upload",
            "upload=no-such&key=",
            Some(Permission::IngestEvents),
        ),
        ("conversations", "", None),
        ("read_conversation", "id=no-such", None),
        ("send_chat", "text=", Some(Permission::Infer)),
        ("chat_models", "", Some(Permission::Infer)),
        // Needs Infer too: every role that may write runs may use the model.
        ("send_task", "text=", Some(Permission::WriteRuns)),
        ("stop_answer", "id=no-such&seq=2", None),
        ("rename_conversation", "id=no-such&title=t", None),
        ("delete_conversation", "id=no-such", None),
        (
            "save_workflow",
            "name=fn-made&description=&project=alpha&params_schema=%7B%22type%22%3A%22object%22%7D&plan=%7B%22steps%22%3A%5B%7B%22key%22%3A%22a%22%2C%22agent%22%3A%22default%22%2C%22tool%22%3A%22noop%22%7D%5D%7D",
            Some(Permission::WriteRuns),
        ),
    ]
    .into_iter()
    .map(|(endpoint, form, needs)| (endpoint, form.to_owned(), needs, false))
    .collect();
    fns.push((
        "run_detail",
        format!("id={own}"),
        Some(Permission::ReadRuns),
        false,
    ));
    fns.push((
        "run_detail",
        format!("id={foreign}"),
        Some(Permission::ReadRuns),
        true,
    ));
    for (name, foreign_id) in [("tpl-alpha", false), ("tpl-beta", true)] {
        fns.push((
            "workflow_page",
            format!("name={name}"),
            Some(Permission::ReadRuns),
            foreign_id,
        ));
        fns.push((
            "start_workflow",
            format!("name={name}&params=%7B%7D"),
            Some(Permission::RunWorkflows),
            foreign_id,
        ));
    }
    for (run, foreign_id) in [(&own, false), (&foreign, true)] {
        fns.push((
            "steer_run",
            format!("id={run}&action=resume"),
            Some(Permission::WriteRuns),
            foreign_id,
        ));
        fns.push((
            "rerun_run",
            format!("id={run}"),
            Some(Permission::WriteRuns),
            foreign_id,
        ));
        fns.push((
            "decide_step",
            format!("run_id={run}&step=a&approve=true&rationale=checked"),
            Some(Permission::Approve),
            foreign_id,
        ));
    }
    for (endpoint, form, needs, foreign_id) in fns {
        let shown = if matches!(
            endpoint,
            "run_detail"
                | "decide_step"
                | "steer_run"
                | "rerun_run"
                | "workflow_page"
                | "start_workflow"
        ) {
            format!(
                "server fn {endpoint} ({})",
                if foreign_id { "foreign" } else { "own" }
            )
        } else {
            format!("server fn {endpoint}")
        };
        table += &format!("\n{shown:<56}");
        for caller in &callers {
            let (status, _, body) = h
                .send(server_fn_request(endpoint, &form, caller.cookie.as_deref()))
                .await;
            table += &format!(" {:>14}", status.as_u16());
            let signed_in = caller.cookie.is_some() && caller.holds.is_some();
            let expected_refusal = if !signed_in {
                Some(StatusCode::UNAUTHORIZED)
            } else {
                match (needs, &caller.holds) {
                    (Some(needs), Some(held)) if !held.contains(&needs) => {
                        Some(StatusCode::FORBIDDEN)
                    }
                    _ if foreign_id && !caller.sees_all => Some(StatusCode::NOT_FOUND),
                    _ => None,
                }
            };
            match expected_refusal {
                Some(refusal) => {
                    if status.is_success() {
                        unauthorized_2xx += 1;
                    }
                    if refusal != StatusCode::UNAUTHORIZED {
                        expected_refusals += 1;
                    }
                    if status != refusal {
                        wrong.push(format!(
                            "server fn {endpoint} as {}: {status}, expected {refusal}: {body}",
                            caller.name
                        ));
                    }
                }
                None => {
                    if matches!(status, StatusCode::UNAUTHORIZED | StatusCode::FORBIDDEN)
                        || status.is_server_error()
                    {
                        wrong.push(format!(
                            "server fn {endpoint} as {}: {status}, expected it allowed: {body}",
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
    let (status, _, _) = h
        .send(request(
            &route("GET", "/api/v1/health", Permission::ReadRuns),
            None,
        ))
        .await;
    assert_eq!(status, StatusCode::OK);

    // A member of alpha lists alpha's runs only; an admin lists both.
    let viewer = callers.iter().find(|c| c.name == "viewer").unwrap();
    let (_, _, listed) = h
        .send(request(
            &route("GET", "/api/v1/runs", Permission::ReadRuns),
            viewer.bearer.as_deref(),
        ))
        .await;
    assert!(
        listed.contains(&own) && !listed.contains(&foreign),
        "{listed}"
    );
    let admin = callers.iter().find(|c| c.name == "admin").unwrap();
    let (_, _, listed) = h
        .send(request(
            &route("GET", "/api/v1/runs", Permission::ReadRuns),
            admin.bearer.as_deref(),
        ))
        .await;
    assert!(
        listed.contains(&own) && listed.contains(&foreign),
        "{listed}"
    );
    let (_, _, listed) = h
        .send(server_fn_request("runs_page", "", viewer.cookie.as_deref()))
        .await;
    assert!(
        listed.contains(&own) && !listed.contains(&foreign),
        "{listed}"
    );
    // Naming a project the caller does not see narrows to nothing; it never widens.
    let (_, _, listed) = h
        .send(server_fn_request(
            "runs_page",
            "project=beta",
            viewer.cookie.as_deref(),
        ))
        .await;
    assert!(!listed.contains(&foreign), "{listed}");
    assert!(listed.contains("\"rows\":[]"), "{listed}");

    // Every refusal (401s from the API, 403s, and 404s for foreign ids) and every mutation
    // is in the audit log, and the chain holds. (A server function's 401 is the session
    // guard's answer before any caller is known; the API's 401s are audited.)
    let log = switchyard_auth::audit::list(&h.db, 0, 10_000, None, None)
        .await
        .unwrap();
    let refusals = log
        .iter()
        .filter(|r| r.entry.result.starts_with("denied"))
        .count();
    assert_eq!(refusals, expected_refusals);
    assert!(log.iter().any(|r| r.entry.actor == "viewer@example.com"
        && r.entry.action == "POST /api/v1/runs"
        && r.entry.result == "denied: needs WriteRuns"));
    assert!(log.iter().any(|r| r.entry.actor == "operator@example.com"
        && r.entry.target == format!("run {foreign}")
        && r.entry.result == "denied: not in the caller's projects"));
    assert!(log.iter().any(|r| r.entry.actor == "viewer@example.com"
        && r.entry.action == "admin.overview"
        && r.entry.result == "denied: needs ManageUsers"));
    assert!(log.iter().any(|r| r.entry.actor == "anonymous"
        && r.entry.result.starts_with("denied: send Authorization")));
    let created_by = |actor: &str| {
        log.iter()
            .filter(|r| r.entry.action == "runs.create" && r.entry.result == "ok")
            .filter(|r| r.entry.actor == actor)
            .count()
    };
    assert_eq!(created_by("local-operator"), 2);
    // Each created run is also run again once from its page (`rerun_run`).
    assert_eq!(
        created_by("admin@example.com"),
        4,
        "alpha and beta, each twice"
    );
    assert_eq!(created_by("operator@example.com"), 2, "alpha only, twice");
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

/// A burst against a bucket of 60 tokens refilled continuously at one a second: the first 60
/// pass, plus at most one for every second the burst itself took (several on a loaded machine).
fn assert_held_to_sixty_a_minute(admitted: usize, burst: std::time::Duration, who: &str) {
    let most = 60 + burst.as_secs_f64().ceil() as usize;
    assert!(
        (60..=most).contains(&admitted),
        "{who}: {admitted} admitted in {burst:?}; a full bucket of 60 refilled at 1/s allows 60..={most}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_key_burst_is_held_to_its_rate_with_retry_after_and_revocation_is_immediate() {
    let mut h = Harness::new().await;
    h.auth.required = true;
    projects::create(&h.db, "alpha", "test").await.unwrap();
    let runs = route("GET", "/api/v1/runs", Permission::ReadRuns);
    let secret = key(&h, "bursty", &[Scope::RunsRead], 60).await;
    let (mut ok, mut limited) = (0, 0);
    let burst = std::time::Instant::now();
    for _ in 0..200 {
        let (status, headers, body) = h.send(request(&runs, Some(&secret))).await;
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
    let burst = burst.elapsed();
    println!("burst of 200 at 60/min in {burst:?}: {ok} admitted, {limited} refused");
    assert_held_to_sixty_a_minute(ok, burst, "key");
    assert_eq!(ok + limited, 200);

    // A signed-in user is held to the per-user limits the same way (keyed on the user, so
    // a spoofed X-Forwarded-For changes nothing).
    h.auth.user_limits = switchyard_auth::api_keys::Limits {
        rate_per_min: 60,
        max_concurrency: 64,
    };
    let user = users::create(
        &h.db,
        "busy@example.com",
        "a long enough password",
        Role::Viewer,
    )
    .await
    .unwrap();
    let token = h
        .auth
        .keys
        .issue(&user.id, Role::Viewer, chrono::Utc::now().timestamp());
    let (mut ok, mut limited) = (0, 0);
    let burst = std::time::Instant::now();
    for i in 0..200 {
        let mut request = request(&runs, Some(&token));
        request.headers_mut().insert(
            "x-forwarded-for",
            format!("10.0.0.{}", i % 250).parse().unwrap(),
        );
        let (status, headers, body) = h.send(request).await;
        match status {
            StatusCode::OK => ok += 1,
            StatusCode::TOO_MANY_REQUESTS => {
                limited += 1;
                assert!(headers.contains_key(header::RETRY_AFTER), "{body}");
            }
            other => panic!("{other}: {body}"),
        }
    }
    let burst = burst.elapsed();
    println!("user burst of 200 at 60/min in {burst:?}: {ok} admitted, {limited} refused");
    assert_held_to_sixty_a_minute(ok, burst, "user");

    let id = secret["sy_".len()..].split('_').next().unwrap().to_owned();
    let other = key(&h, "steady", &[Scope::RunsRead], 10_000).await;
    let (status, _, _) = h.send(request(&runs, Some(&other))).await;
    assert_eq!(status, StatusCode::OK);
    let other_id = other["sy_".len()..].split('_').next().unwrap().to_owned();
    api_keys::revoke(&h.db, &other_id).await.unwrap();
    let (status, _, body) = h.send(request(&runs, Some(&other))).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "{body}");
    assert!(body.contains("revoked"), "{body}");
    let _ = id;
}
