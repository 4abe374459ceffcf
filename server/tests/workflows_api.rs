//! `/api/v1/workflows` end to end in-process (real engine, real SQLite): saving a template is
//! checked as it will run; running one checks its parameters field by field, fills defaults,
//! keeps types, waits for outputs; its runs stream; its own entry in the API document; API keys
//! limited to named templates.

mod common;

use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use common::app::{Harness, get, post_json};
use serde_json::{Value, json};
use switchyard_auth::api_keys::{self, NewKey, Scope};

fn onboarding() -> Value {
    json!({
        "name": "onboard",
        "description": "Greets a new customer",
        "params_schema": {
            "type": "object",
            "required": ["email", "seats"],
            "properties": {
                "email": {"type": "string", "format": "email"},
                "seats": {"type": "integer", "minimum": 1, "maximum": 50},
                "tier": {"type": "string", "enum": ["free", "pro"], "default": "free"},
                "tags": {"type": "array", "items": {"type": "string"}},
                "address": {"type": "object", "properties": {"city": {"type": "string", "default": "Paris"}}}
            }
        },
        "plan": {"steps": [
            {"key": "greet", "agent": "default", "tool": "noop",
             "input": {"to": "{{params.email}}", "seats": "{{params.seats}}",
                       "line": "{{params.tier}} plan for {{params.seats}} in {{params.address.city}}",
                       "tags": "{{params.tags}}"}},
            {"key": "done", "agent": "default", "tool": "noop", "depends_on": ["greet"],
             "input": {"greeted": "{{steps.greet.output.to}}"}}
        ]}
    })
}

fn field_issues(body: &Value) -> Vec<(String, String)> {
    body["error"]["details"]
        .as_array()
        .unwrap_or_else(|| panic!("no details: {body}"))
        .iter()
        .map(|d| {
            (
                d["field"].as_str().unwrap().to_owned(),
                d["message"].as_str().unwrap().to_owned(),
            )
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_template_is_saved_versioned_and_run_with_checked_parameters() {
    let h = Harness::new().await;
    let (status, saved) = h.json(post_json("/api/v1/workflows", &onboarding())).await;
    assert_eq!(status, StatusCode::CREATED, "{saved}");
    assert_eq!(saved["version"], 1);
    let (status, again) = h.json(post_json("/api/v1/workflows", &onboarding())).await;
    assert_eq!(status, StatusCode::CREATED, "{again}");
    assert_eq!(again["version"], 2);
    let (_, one) = h.json(get("/api/v1/workflows/onboard?version=1")).await;
    assert_eq!(
        (one["version"].as_i64(), one["versions"].as_i64()),
        (Some(1), Some(2))
    );
    let (_, list) = h.json(get("/api/v1/workflows")).await;
    assert_eq!(list["templates"].as_array().unwrap().len(), 1, "{list}");

    // Bad parameters: every problem at its field, nothing started.
    let (_, before) = h.json(get("/api/v1/runs")).await;
    let (status, refused) = h
        .json(post_json(
            "/api/v1/workflows/onboard/runs",
            &json!({"email": "not-an-email", "seats": 99, "tier": "gold"}),
        ))
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{refused}");
    assert_eq!(refused["error"]["code"], "invalid_params");
    let fields: Vec<String> = field_issues(&refused).into_iter().map(|(f, _)| f).collect();
    for field in ["/email", "/seats", "/tier"] {
        assert!(fields.contains(&field.to_owned()), "{field} in {fields:?}");
    }
    let (status, missing) = h
        .json(post_json("/api/v1/workflows/onboard/runs", &json!({})))
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    let fields: Vec<String> = field_issues(&missing).into_iter().map(|(f, _)| f).collect();
    assert_eq!(
        fields,
        ["/email", "/seats"],
        "required ones at their fields"
    );
    let (_, after) = h.json(get("/api/v1/runs")).await;
    assert_eq!(before["runs"], after["runs"], "nothing was started");

    // Good ones, waiting for the outputs: defaults filled in, types kept.
    let (status, run) = h
        .json(post_json(
            "/api/v1/workflows/onboard/runs?wait=20",
            &json!({"email": "ada@example.com", "seats": 3, "tags": ["vip", "eu"], "address": {}}),
        ))
        .await;
    assert_eq!(status, StatusCode::OK, "{run}");
    assert_eq!(run["status"], "succeeded");
    assert_eq!(run["finished"], true);
    assert_eq!(
        (run["template"].as_str(), run["version"].as_i64()),
        (Some("onboard"), Some(2))
    );
    let greet = &run["outputs"]["greet"];
    assert_eq!(
        greet["seats"],
        json!(3),
        "a whole-string reference keeps its type"
    );
    assert_eq!(
        greet["line"], "free plan for 3 in Paris",
        "defaults inside a given object"
    );
    assert_eq!(greet["tags"], json!(["vip", "eu"]));
    assert_eq!(run["outputs"]["done"]["greeted"], "ada@example.com");

    // Without wait: 201 at once; the run streams from the template's own path.
    let (status, started) = h
        .json(post_json(
            "/api/v1/workflows/onboard/runs",
            &json!({"email": "bo@example.com", "seats": 1}),
        ))
        .await;
    assert_eq!(status, StatusCode::CREATED, "{started}");
    let id = started["id"].as_str().unwrap();
    let (status, _, stream) = h
        .send(get(&format!("/api/v1/workflows/onboard/runs/{id}/stream")))
        .await;
    assert_eq!(status, StatusCode::OK);
    assert!(stream.contains("run_succeeded"), "{stream}");
    let (_, bo) = h.json(get(&format!("/api/v1/runs/{id}"))).await;
    assert_eq!(
        bo["steps"][0]["output"]["line"], "free plan for 1 in ",
        "an absent object has no defaults inside: {bo}"
    );
    assert_eq!(
        bo["steps"][0]["output"]["tags"],
        Value::Null,
        "an absent list is null"
    );
    let other = run["id"].as_str().unwrap();
    let (status, _) = h
        .json(get(&format!("/api/v1/workflows/other/runs/{other}/stream")))
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND, "a run of another template");

    // wait out of range, a body that is not JSON, an unknown template.
    let (status, _) = h
        .json(post_json(
            "/api/v1/workflows/onboard/runs?wait=301",
            &json!({}),
        ))
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    let raw = Request::post("/api/v1/workflows/onboard/runs")
        .header(header::CONTENT_TYPE, "application/json")
        .body(Body::from("{not json"))
        .unwrap();
    assert_eq!(h.send(raw).await.0, StatusCode::BAD_REQUEST);
    let (status, _) = h
        .json(post_json("/api/v1/workflows/nope/runs", &json!({})))
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);

    // The API document has the template's own entry, its body the parameter schema.
    let (status, doc) = h.json(get("/api/v1/openapi.json")).await;
    assert_eq!(status, StatusCode::OK);
    let entry = &doc["paths"]["/api/v1/workflows/onboard/runs"]["post"];
    assert_eq!(
        entry["requestBody"]["content"]["application/json"]["schema"],
        onboarding()["params_schema"],
        "{entry}"
    );
    assert!(doc["paths"]["/api/v1/workflows/{name}/runs"]["post"].is_object());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_template_with_mistakes_is_refused_with_each_one_placed() {
    let h = Harness::new().await;
    let mut bad = onboarding();
    bad["plan"]["steps"][0]["input"]["extra"] = json!("{{params.missing}}");
    bad["plan"]["steps"][1]["tool"] = json!("no-such-tool");
    bad["plan"]["steps"][1]["input"]["broken"] = json!("{{params.}}");
    let (status, refused) = h.json(post_json("/api/v1/workflows", &bad)).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{refused}");
    assert_eq!(refused["error"]["code"], "invalid_template");
    let issues = field_issues(&refused);
    assert!(
        issues
            .iter()
            .any(|(f, m)| f == "plan/steps/0/input/extra" && m.contains("params.missing")),
        "{issues:?}"
    );
    assert!(
        issues.iter().any(|(f, _)| f == "plan/steps/1/input/broken"),
        "{issues:?}"
    );
    assert!(
        issues
            .iter()
            .any(|(f, m)| f.starts_with("plan/steps/1") && m.contains("no-such-tool")),
        "all at once: the plan's own problems too: {issues:?}"
    );
    // With the references right, the plan alone is checked against the catalog.
    let mut unknown_tool = onboarding();
    unknown_tool["plan"]["steps"][1]["tool"] = json!("no-such-tool");
    let (status, refused) = h.json(post_json("/api/v1/workflows", &unknown_tool)).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{refused}");
    let issues = field_issues(&refused);
    assert!(
        issues
            .iter()
            .any(|(f, m)| f.starts_with("plan/steps/1") && m.contains("no-such-tool")),
        "{issues:?}"
    );
    let mut not_object = onboarding();
    not_object["params_schema"] = json!({"type": "string"});
    let (status, refused) = h.json(post_json("/api/v1/workflows", &not_object)).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(field_issues(&refused)[0].0, "params_schema");
    let mut bad_name = onboarding();
    bad_name["name"] = json!("Has Space");
    let (status, refused) = h.json(post_json("/api/v1/workflows", &bad_name)).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(
        refused["error"]["message"]
            .as_str()
            .unwrap()
            .contains("Has Space")
    );
    let (_, list) = h.json(get("/api/v1/workflows")).await;
    assert_eq!(list["templates"], json!([]), "nothing was saved");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_key_limited_to_one_template_runs_that_one_only() {
    let mut h = Harness::new().await;
    let mut other = onboarding();
    other["name"] = json!("other");
    for body in [onboarding(), other] {
        let (status, saved) = h.json(post_json("/api/v1/workflows", &body)).await;
        assert_eq!(status, StatusCode::CREATED, "{saved}");
    }
    let secret = api_keys::create(
        &h.db,
        &NewKey {
            name: "onboarding bot",
            project: "default",
            scopes: &[],
            workflows: &["onboard".to_owned()],
            rate_per_min: 1_000,
            max_concurrency: 8,
            created_by: "test",
        },
    )
    .await
    .unwrap()
    .1;
    h.auth.required = true;
    let with_key = |mut request: Request<Body>| {
        request.headers_mut().insert(
            header::AUTHORIZATION,
            format!("Bearer {secret}").parse().unwrap(),
        );
        request
    };
    let params = json!({"email": "ada@example.com", "seats": 2});
    let (status, run) = h
        .json(with_key(post_json(
            "/api/v1/workflows/onboard/runs?wait=20",
            &params,
        )))
        .await;
    assert_eq!(status, StatusCode::OK, "{run}");
    let (status, refused) = h
        .json(with_key(post_json("/api/v1/workflows/other/runs", &params)))
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{refused}");
    assert!(
        refused["error"]["message"]
            .as_str()
            .unwrap()
            .contains("workflows:run:other"),
        "{refused}"
    );
    // It reads its own template and nothing else; plain runs are not its business.
    let (_, list) = h.json(with_key(get("/api/v1/workflows"))).await;
    let names: Vec<&str> = list["templates"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["onboard"]);
    let (status, _) = h.json(with_key(get("/api/v1/runs"))).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let (_, doc) = h.json(with_key(get("/api/v1/openapi.json"))).await;
    assert!(doc["paths"]["/api/v1/workflows/onboard/runs"].is_object());
    assert!(doc["paths"]["/api/v1/workflows/other/runs"].is_null());
    // Without credentials the document still answers, listing no template.
    let (status, doc) = h.json(get("/api/v1/openapi.json")).await;
    assert_eq!(status, StatusCode::OK);
    assert!(doc["paths"]["/api/v1/workflows/onboard/runs"].is_null());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn keys_are_granted_named_templates_through_the_api() {
    let h = Harness::new().await;
    let (status, made) = h
        .json(post_json(
            "/api/v1/admin/keys",
            &json!({"name": "bot", "scopes": ["runs:read", "workflows:run:onboard"]}),
        ))
        .await;
    assert_eq!(status, StatusCode::CREATED, "{made}");
    assert_eq!(made["key"]["scopes"], json!(["runs:read"]));
    assert_eq!(made["key"]["workflows"], json!(["onboard"]));
    let (_, keys) = h.json(get("/api/v1/admin/keys")).await;
    assert!(keys.to_string().contains("onboard"), "{keys}");
    for bad in ["workflows:run:Bad", "workflows:run:", "workflow:run"] {
        let (status, refused) = h
            .json(post_json(
                "/api/v1/admin/keys",
                &json!({"name": "bot", "scopes": [bad]}),
            ))
            .await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{bad}: {refused}");
    }
    assert_eq!(Scope::WorkflowsRun.as_str(), "workflows:run");
}
