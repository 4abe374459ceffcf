//! The OpenAI-compatible API, health's inference section and planning from a goal, in process
//! over a real SQLite file and a real mistral.rs engine on a tiny generated model.

mod common;

use std::time::Duration;

use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use common::app::{Harness, get, post_json};
use serde_json::{Value, json};

/// The run's state once it has ended (or after 30 s, for the caller's assertion to show).
async fn ended(h: &Harness, id: &str) -> Value {
    let deadline = std::time::Instant::now() + Duration::from_secs(30);
    loop {
        let (_, state) = h.json(get(&format!("/api/v1/runs/{id}"))).await;
        let status = state["status"].as_str().unwrap_or("");
        if ["succeeded", "failed", "cancelled"].contains(&status)
            || std::time::Instant::now() > deadline
        {
            return state;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

fn chat(body: Value) -> Request<Body> {
    post_json("/v1/chat/completions", &body)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn models_chat_and_health_answer_like_openai() {
    let dir = tempfile::tempdir().unwrap();
    let h = Harness::with_model(dir.path(), |_| {}).await;

    let (status, models) = h.json(get("/v1/models")).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(models["object"], "list");
    assert_eq!(models["data"][0]["id"], "tiny");

    let (status, health) = h.json(get("/api/v1/health")).await;
    assert_eq!(status, StatusCode::OK, "{health}");
    let inference = &health["inference"];
    assert!(
        inference["device"].as_str().unwrap().starts_with("cpu"),
        "{inference}"
    );
    assert_eq!(inference["models"][0]["state"], "ready");
    assert_eq!(inference["models"][0]["progress_pct"], 100);

    let (status, answer) = h
        .json(chat(json!({
            "model": "tiny",
            "messages": [{"role": "system", "content": "Be brief."},
                         {"role": "user", "content": "Hello?"}],
            "max_tokens": 8
        })))
        .await;
    assert_eq!(status, StatusCode::OK, "{answer}");
    assert_eq!(answer["object"], "chat.completion");
    assert_eq!(answer["model"], "tiny");
    assert!(answer["id"].as_str().unwrap().starts_with("chatcmpl-"));
    assert_eq!(answer["choices"][0]["message"]["role"], "assistant");
    assert!(answer["choices"][0]["message"]["content"].is_string());
    let usage = &answer["usage"];
    let completion = usage["completion_tokens"].as_u64().unwrap();
    assert!((1..=8).contains(&completion), "{usage}");
    assert_eq!(
        usage["total_tokens"].as_u64().unwrap(),
        usage["prompt_tokens"].as_u64().unwrap() + completion
    );
    assert!(answer["timings"]["ttft_ms"].as_f64().unwrap() > 0.0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stream_sends_chunks_then_done() {
    let dir = tempfile::tempdir().unwrap();
    let h = Harness::with_model(dir.path(), |_| {}).await;
    let (status, headers, body) = h
        .send(chat(json!({
            "messages": [{"role": "user", "content": "Count."}],
            "max_tokens": 10,
            "stream": true,
            "stream_options": {"include_usage": true}
        })))
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert!(
        headers[header::CONTENT_TYPE]
            .to_str()
            .unwrap()
            .starts_with("text/event-stream")
    );
    let data: Vec<&str> = body
        .lines()
        .filter_map(|l| l.strip_prefix("data: "))
        .collect();
    assert_eq!(data.last(), Some(&"[DONE]"), "{body}");
    let chunks: Vec<Value> = data[..data.len() - 1]
        .iter()
        .map(|d| serde_json::from_str(d).unwrap())
        .collect();
    assert_eq!(chunks[0]["choices"][0]["delta"]["role"], "assistant");
    assert!(
        chunks
            .iter()
            .all(|c| c["object"] == "chat.completion.chunk")
    );
    let finish: Vec<&Value> = chunks
        .iter()
        .filter(|c| !c["choices"][0]["finish_reason"].is_null())
        .collect();
    assert_eq!(finish.len(), 1, "one chunk carries the finish reason");
    let usage = chunks.last().unwrap();
    assert_eq!(usage["choices"], json!([]));
    let text: String = chunks
        .iter()
        .filter_map(|c| c["choices"][0]["delta"]["content"].as_str())
        .collect();
    let completion = usage["usage"]["completion_tokens"].as_u64().unwrap();
    assert!((1..=10).contains(&completion), "{usage}");
    assert!(!text.is_empty() || completion == 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn response_format_json_schema_gives_json_of_that_shape() {
    let dir = tempfile::tempdir().unwrap();
    let h = Harness::with_model(dir.path(), |_| {}).await;
    let (status, answer) = h
        .json(chat(json!({
            "messages": [{"role": "user", "content": "Pick."}],
            "max_tokens": 40,
            "response_format": {"type": "json_schema", "json_schema": {
                "name": "pick", "strict": true,
                "schema": {"type": "object", "properties": {"pick": {"enum": ["a", "b"]}},
                           "required": ["pick"], "additionalProperties": false}}}
        })))
        .await;
    assert_eq!(status, StatusCode::OK, "{answer}");
    let content = answer["choices"][0]["message"]["content"].as_str().unwrap();
    let value: Value = serde_json::from_str(content).unwrap_or_else(|e| panic!("{e}: {content}"));
    assert!(
        ["a", "b"].contains(&value["pick"].as_str().unwrap()),
        "{value}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_requests_get_openai_errors_naming_the_problem() {
    let dir = tempfile::tempdir().unwrap();
    let h = Harness::with_model(dir.path(), |f| {
        f.inference_max_prompt_tokens = Some(40);
        f.inference_max_tokens = Some(64);
    })
    .await;
    let error = |v: &Value| v["error"].clone();

    let (status, body) = h
        .json(chat(
            json!({"model": "gpt-9", "messages": [{"role": "user", "content": "hi"}]}),
        ))
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(error(&body)["type"], "not_found_error");
    assert_eq!(error(&body)["code"], "model_not_found");
    assert!(error(&body)["message"].as_str().unwrap().contains("gpt-9"));

    let (status, _, text) = h
        .send(
            Request::post("/v1/chat/completions")
                .header(header::CONTENT_TYPE, "application/json")
                .body(Body::from("{\"messages\": ["))
                .unwrap(),
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{text}");
    let body: Value = serde_json::from_str(&text).unwrap();
    assert_eq!(error(&body)["type"], "invalid_request_error");

    let long = "many words ".repeat(100);
    let (status, body) = h
        .json(chat(
            json!({"messages": [{"role": "user", "content": long}]}),
        ))
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    assert_eq!(error(&body)["code"], "context_length_exceeded");
    assert!(
        error(&body)["message"]
            .as_str()
            .unwrap()
            .contains("inference_max_prompt_tokens")
    );

    let (status, body) = h
        .json(chat(
            json!({"messages": [{"role": "user", "content": "hi"}], "max_tokens": 65}),
        ))
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    assert_eq!(error(&body)["param"], "max_tokens");

    let (status, body) = h
        .json(chat(
            json!({"messages": [{"role": "user", "content": "hi"}], "n": 2}),
        ))
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    assert_eq!(error(&body)["param"], "n");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_model_configured_is_normal_and_names_the_setting() {
    let h = Harness::new().await;
    let (status, health) = h.json(get("/api/v1/health")).await;
    assert_eq!(status, StatusCode::OK, "{health}");
    assert!(
        health["inference"]["message"]
            .as_str()
            .unwrap()
            .contains("`models`")
    );
    let (status, body) = h
        .json(chat(
            json!({"messages": [{"role": "user", "content": "hi"}]}),
        ))
        .await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE, "{body}");
    assert_eq!(body["error"]["code"], "no_model_configured");
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("--model PATH")
    );
    let (status, body) = h
        .json(post_json("/api/v1/runs", &json!({"goal": "say hello"})))
        .await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE, "{body}");
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("`models`")
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_inference_switch_stops_the_api() {
    let dir = tempfile::tempdir().unwrap();
    let h = Harness::with_model(dir.path(), |_| {}).await;
    switchyard_auth::kill::KillSwitches::new(h.db.clone())
        .switch_off(
            switchyard_auth::kill::Capability::Inference,
            "maintenance",
            "admin@example.com",
        )
        .await
        .unwrap();
    let (status, body) = h
        .json(chat(
            json!({"messages": [{"role": "user", "content": "hi"}]}),
        ))
        .await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE, "{body}");
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("maintenance")
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_goal_is_planned_validated_run_and_its_planning_kept() {
    let dir = tempfile::tempdir().unwrap();
    let h = Harness::with_model(dir.path(), |f| {
        f.planner_tools = Some(vec!["noop".into()]);
        f.planner_max_steps = Some(3);
    })
    .await;
    let (status, created) = h
        .json(post_json(
            "/api/v1/runs",
            &json!({"goal": "Book a flight to Paris"}),
        ))
        .await;
    assert_eq!(status, StatusCode::CREATED, "{created}");
    let id = created["id"].as_str().unwrap().to_owned();
    let planned = &created["planned"];
    assert_eq!(planned["model"], "tiny");
    let steps = planned["plan"]["steps"].as_array().unwrap();
    assert!((1..=3).contains(&steps.len()), "{planned}");
    assert!(steps.iter().all(|s| s["tool"] == "noop"));

    let state = ended(&h, &id).await;
    assert_eq!(state["status"], "succeeded", "{state}");

    let (status, record) = h.json(get(&format!("/api/v1/runs/{id}/planning"))).await;
    assert_eq!(status, StatusCode::OK, "{record}");
    assert_eq!(record["goal"], "Book a flight to Paris");
    let attempts = record["attempts"].as_array().unwrap();
    assert_eq!(
        attempts.len(),
        planned["attempts"].as_u64().unwrap() as usize
    );
    let last = attempts.last().unwrap();
    assert!(last["problems"].as_array().unwrap().is_empty());
    assert!(
        last["prompt"][0]["content"]
            .as_str()
            .unwrap()
            .contains("noop")
    );
    let raw = switchyard_orchestrator::Plan::from_json(last["raw_output"].as_str().unwrap())
        .expect("the kept raw output is the plan that ran");
    assert_eq!(serde_json::to_value(&raw).unwrap(), planned["plan"]);

    // A run submitted with a plan has no planning record.
    let (_, plain) = h
        .json(post_json(
            "/api/v1/runs",
            &json!({"plan": {"steps": [{"key": "a", "agent": "default", "tool": "noop"}]}}),
        ))
        .await;
    let (status, _) = h
        .json(get(&format!(
            "/api/v1/runs/{}/planning",
            plain["id"].as_str().unwrap()
        )))
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);

    // The runs list finds the run by words of its goal, in any case, and shows the goal;
    // the run submitted with a plan has none and is not found by them.
    let (status, listed) = h.json(get("/api/v1/runs?q=FLIGHT%20to")).await;
    assert_eq!(status, StatusCode::OK, "{listed}");
    let runs = listed["runs"].as_array().unwrap();
    assert_eq!(runs.len(), 1, "{listed}");
    assert_eq!(runs[0]["id"], id.as_str());
    assert_eq!(runs[0]["goal"], "Book a flight to Paris");
    let (_, by_id) = h
        .json(get(&format!(
            "/api/v1/runs?q={}",
            &plain["id"].as_str().unwrap()[24..]
        )))
        .await;
    assert_eq!(by_id["runs"][0]["id"], plain["id"], "{by_id}");
    assert_eq!(by_id["runs"][0]["goal"], Value::Null);
    let (_, state) = h.json(get(&format!("/api/v1/runs/{id}"))).await;
    assert_eq!(state["goal"], "Book a flight to Paris");
    // Both or neither is refused.
    let (status, body) = h.json(post_json("/api/v1/runs", &json!({}))).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_goal_that_cannot_be_planned_is_a_failed_run_with_every_attempt_shown() {
    let dir = tempfile::tempdir().unwrap();
    // Four tokens cannot hold a plan: every answer is cut short.
    let h = Harness::with_model(dir.path(), |f| {
        f.planner_tools = Some(vec!["noop".into()]);
        f.planner_max_attempts = Some(2);
        f.planner_max_tokens = Some(4);
    })
    .await;
    let (status, body) = h
        .json(post_json(
            "/api/v1/runs",
            &json!({"goal": "Tidy the archive"}),
        ))
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    assert_eq!(body["error"]["code"], "planning_failed");
    let message = body["error"]["message"].as_str().unwrap();
    assert!(
        message.contains("2 attempt(s)") && message.contains("not complete JSON"),
        "{message}"
    );
    let details = &body["error"]["details"];
    let attempts = details["planning"]["attempts"].as_array().unwrap();
    assert_eq!(attempts.len(), 2);
    for attempt in attempts {
        assert!(!attempt["problems"].as_array().unwrap().is_empty());
        assert!(attempt["raw_output"].is_string());
    }
    let retry_prompt = attempts[1]["prompt"][1]["content"].as_str().unwrap();
    assert!(
        retry_prompt.contains("Fix these problems"),
        "{retry_prompt}"
    );
    assert!(retry_prompt.contains("not complete JSON"), "{retry_prompt}");

    let id = details["run_id"].as_str().unwrap();
    let (status, state) = h.json(get(&format!("/api/v1/runs/{id}"))).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(state["status"], "failed", "{state}");
    assert!(
        state["reason"]
            .as_str()
            .unwrap()
            .starts_with("planning failed"),
        "{state}"
    );
    let (status, record) = h.json(get(&format!("/api/v1/runs/{id}/planning"))).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(record["attempts"].as_array().unwrap().len(), 2);
    let (_, failed) = h.json(get("/api/v1/runs?status=failed")).await;
    assert!(
        failed["runs"]
            .as_array()
            .unwrap()
            .iter()
            .any(|r| r["id"] == id),
        "{failed}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn goals_sharing_a_template_reuse_the_cached_plan_and_others_ask_the_model() {
    let dir = tempfile::tempdir().unwrap();
    let h = Harness::with_model(dir.path(), |f| {
        f.planner_tools = Some(vec!["noop".into()]);
        f.planner_max_steps = Some(2);
    })
    .await;
    let submit = |goal: &str| post_json("/api/v1/runs", &json!({ "goal": goal }));

    let (status, paris) = h.json(submit("Book a flight to Paris")).await;
    assert_eq!(status, StatusCode::CREATED, "{paris}");
    assert_eq!(paris["planned"]["cache_hit"], false);
    assert!(paris["planned"]["attempts"].as_u64().unwrap() >= 1);

    let (status, london) = h.json(submit("Book a flight to London")).await;
    assert_eq!(status, StatusCode::CREATED, "{london}");
    assert_eq!(london["planned"]["cache_hit"], true, "{london}");
    assert_eq!(london["planned"]["attempts"], 0, "the model was not asked");
    assert_eq!(london["planned"]["plan"], paris["planned"]["plan"]);
    let id = london["id"].as_str().unwrap();
    let (_, record) = h.json(get(&format!("/api/v1/runs/{id}/planning"))).await;
    let cache = &record["cache"];
    assert_eq!(cache["template"], "book a flight to {NAME1}");
    assert_eq!(cache["params"], json!([["{NAME1}", "London"]]));
    assert_eq!(cache["matched"], "book a flight to {NAME1}");
    assert!(cache["similarity"].as_f64().unwrap() > 0.999, "{cache}");

    let (status, other) = h.json(submit("Archive the build logs")).await;
    assert_eq!(status, StatusCode::CREATED, "{other}");
    assert_eq!(other["planned"]["cache_hit"], false);
    assert!(other["planned"]["attempts"].as_u64().unwrap() >= 1);

    let (_, health) = h.json(get("/api/v1/health")).await;
    let stats = &health["inference"]["plan_cache"];
    assert_eq!(stats["hits"], 1, "{stats}");
    assert_eq!(stats["misses"], 2, "{stats}");
    assert_eq!(stats["entries"], 2, "{stats}");
    assert!((stats["hit_rate"].as_f64().unwrap() - 1.0 / 3.0).abs() < 1e-9);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_llm_tool_answers_in_a_run_with_its_usage_stored_on_the_step() {
    let dir = tempfile::tempdir().unwrap();
    let h = Harness::with_model(dir.path(), |_| {}).await;
    let plan = json!({"steps": [
        {"key": "ask", "agent": "default", "tool": "llm",
         "input": {"prompt": "Say hello.", "system": "Be brief.", "max_tokens": 5}},
        {"key": "pick", "agent": "default", "tool": "llm", "depends_on": ["ask"],
         "input": {"prompt": "Given {{steps.ask.output.text}}, pick one.", "max_tokens": 30,
                   "json_schema": {"type": "object", "properties": {"pick": {"enum": ["x", "y"]}},
                                   "required": ["pick"], "additionalProperties": false}}}
    ]});
    let (status, created) = h
        .json(post_json("/api/v1/runs", &json!({ "plan": plan })))
        .await;
    assert_eq!(status, StatusCode::CREATED, "{created}");
    let id = created["id"].as_str().unwrap();
    let state = ended(&h, id).await;
    assert_eq!(state["status"], "succeeded", "{state}");
    let steps = state["steps"].as_array().unwrap();
    let ask = &steps[0]["output"];
    assert!(ask["text"].is_string(), "{ask}");
    assert_eq!(ask["model"], "tiny");
    let used = ask["usage"]["completion_tokens"].as_u64().unwrap();
    assert!((1..=5).contains(&used), "{ask}");
    assert!(ask["usage"]["ttft_ms"].as_f64().unwrap() > 0.0);
    let pick = &steps[1]["output"];
    assert!(
        ["x", "y"].contains(&pick["json"]["pick"].as_str().unwrap()),
        "{pick}"
    );
}

/// The planning progress messages a live socket receives after `{"planning": id}`, until the
/// last (planned or failed) or 60 s.
async fn planning_messages(
    socket: &mut tokio_tungstenite::WebSocketStream<
        tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>,
    >,
) -> Vec<Value> {
    use futures_util::StreamExt;
    let mut seen = Vec::new();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
    while let Ok(Some(Ok(message))) = tokio::time::timeout_at(deadline, socket.next()).await {
        let tokio_tungstenite::tungstenite::Message::Text(text) = message else {
            continue;
        };
        let value: Value = serde_json::from_str(&text).unwrap();
        assert!(value.get("error").is_none(), "{value}");
        if let Some(progress) = value.get("progress") {
            let stage = progress["stage"].as_str().unwrap().to_owned();
            seen.push(progress.clone());
            if stage == "planned" || stage == "failed" {
                break;
            }
        }
    }
    seen
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_goal_s_planning_is_followed_over_the_live_socket_as_the_model_writes() {
    use futures_util::{SinkExt, StreamExt};
    use switchyard_service::runs::submit::Submission;
    use tokio_tungstenite::tungstenite::Message;
    let dir = tempfile::tempdir().unwrap();
    let h = Harness::with_model(dir.path(), |f| {
        f.planner_tools = Some(vec!["noop".into()]);
        f.planner_max_steps = Some(3);
    })
    .await;
    let addr = h.serve().await;
    let (mut socket, _) = tokio_tungstenite::connect_async(format!("ws://{addr}/api/v1/live"))
        .await
        .unwrap();
    let operator = switchyard_service::Principal::local_operator(
        h.db.clone(),
        switchyard_service::Client::default(),
        "test".into(),
    );
    let submit = |goal: &str, planning: &str| {
        let service = h.service.clone();
        let operator = operator.clone();
        let submission = Submission {
            goal: Some(goal.to_owned()),
            planning_id: Some(planning.to_owned()),
            ..Submission::default()
        };
        async move { service.submit(&operator, submission).await }
    };

    // Followed before the goal is sent. States that pass faster than the socket sends (the
    // cache's answer, the check) may be skipped: each message is the latest state.
    socket
        .send(Message::Text(r#"{"planning": "p-1"}"#.into()))
        .await
        .unwrap();
    let (outcome, seen) = tokio::join!(
        submit("Book a flight to Paris", "p-1"),
        planning_messages(&mut socket)
    );
    let outcome = outcome.unwrap();
    let stages: Vec<&str> = seen.iter().map(|p| p["stage"].as_str().unwrap()).collect();
    assert_eq!(stages.last(), Some(&"planned"), "{stages:?}");
    // The answer streamed: several writing states, tokens rising, the text growing into
    // the plan that ran.
    let writing: Vec<&Value> = seen.iter().filter(|p| p["stage"] == "writing").collect();
    assert!(writing.len() > 2, "{stages:?}");
    let tokens: Vec<u64> = writing
        .iter()
        .map(|p| p["tokens"].as_u64().unwrap())
        .collect();
    assert!(tokens.windows(2).all(|w| w[0] <= w[1]), "{tokens:?}");
    assert!(tokens.last() > tokens.first(), "{tokens:?}");
    let last = seen.last().unwrap();
    assert_eq!(last["model"], "tiny");
    assert_eq!(last["cache_hit"], false);
    assert_eq!(
        last["attempt"].as_u64().unwrap() as usize,
        outcome.planned.as_ref().unwrap().attempts
    );
    let planned = switchyard_orchestrator::Plan::from_json(last["answer"].as_str().unwrap())
        .expect("the last answer shown is the plan");
    assert_eq!(planned, outcome.planned.unwrap().plan);

    // Followed after the goal was sent (the message reaches the server late): the latest
    // state still arrives; the same kind of goal is answered by the cache, no model call.
    let (outcome, ()) = tokio::join!(submit("Book a flight to London", "p-2"), async {
        tokio::time::sleep(Duration::from_millis(300)).await;
    });
    assert!(outcome.unwrap().planned.unwrap().cache_hit);
    socket
        .send(Message::Text(r#"{"planning": "p-2"}"#.into()))
        .await
        .unwrap();
    let seen = planning_messages(&mut socket).await;
    assert_eq!(seen.len(), 1, "{seen:?}");
    assert_eq!(seen[0]["stage"], "planned");
    assert_eq!(seen[0]["cache_hit"], true);
    assert_eq!(seen[0]["attempt"], 0);

    // A malformed id is refused with the reason.
    socket
        .send(Message::Text(r#"{"planning": "not an id"}"#.into()))
        .await
        .unwrap();
    let refusal = loop {
        let Some(Ok(Message::Text(text))) = socket.next().await else {
            panic!("the socket closed");
        };
        let value: Value = serde_json::from_str(&text).unwrap();
        if value.get("error").is_some() {
            break value;
        }
    };
    assert!(
        refusal["error"].as_str().unwrap().contains("planning id"),
        "{refusal}"
    );
}
