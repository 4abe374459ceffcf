//! The OpenAI-compatible API through the real binary: the stock `openai` Python client, a
//! full queue answered 503 with `Retry-After`, refusals that leave requests in flight alone,
//! and a client that goes away freeing its slot.

mod common;

use std::time::{Duration, Instant};

use common::Server;
use serde_json::{Value, json};
use switchyard_inference::test_model::{ModelShape, write_gguf};

/// A server with the tiny model, one generation slot and a queue of one.
fn server(dir: &std::path::Path) -> Server {
    write_gguf(&dir.join("tiny.gguf"), &ModelShape::tiny(), 7).unwrap();
    std::fs::write(
        dir.join("switchyard.toml"),
        "inference_max_concurrent = 1\ninference_queue = 1\ninference_max_tokens = 4000\n",
    )
    .unwrap();
    Server::start(dir, &["--model", "tiny.gguf"])
}

/// The server's health document.
async fn health(client: &reqwest::Client, server: &Server) -> Value {
    let response = client.get(server.url("/api/v1/health")).send().await;
    response.unwrap().json().await.unwrap()
}

async fn wait_ready(client: &reqwest::Client, server: &Server) {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let health = health(client, server).await;
        if health["inference"]["models"][0]["state"] == "ready" {
            return;
        }
        assert!(Instant::now() < deadline, "model not ready: {health}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// A streamed request for a long answer (an array of at least 3,000 items).
fn long_stream() -> Value {
    json!({
        "messages": [{"role": "user", "content": "count"}],
        "max_tokens": 4000,
        "stream": true,
        "response_format": {"type": "json_schema", "json_schema": {"name": "n",
            "schema": {"type": "array", "items": {"const": 1}, "minItems": 3000}}}
    })
}

fn short() -> Value {
    json!({"messages": [{"role": "user", "content": "hi"}], "max_tokens": 3})
}

#[test]
fn the_stock_openai_python_client_works_unchanged() {
    let dir = tempfile::tempdir().unwrap();
    let server = server(dir.path());
    let runtime = tokio::runtime::Runtime::new().unwrap();
    runtime.block_on(wait_ready(&reqwest::Client::new(), &server));
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/python/openai_client.py");
    let out = std::process::Command::new("python3")
        .args([script, &server.url("/v1"), "tiny"])
        .output()
        .expect("python3 runs");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success(),
        "the openai client failed (scripts/setup.sh --postgres installs it):\n{stdout}\n{stderr}"
    );
    assert!(stdout.contains("all checks passed"), "{stdout}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_full_queue_is_503_with_retry_after_and_refusals_leave_the_stream_alone() {
    let dir = tempfile::tempdir().unwrap();
    let server = server(dir.path());
    let client = reqwest::Client::new();
    wait_ready(&client, &server).await;
    let chat = server.url("/v1/chat/completions");

    // The only slot: a long stream, read as it comes.
    let mut holder = client
        .post(&chat)
        .json(&long_stream())
        .send()
        .await
        .unwrap();
    assert_eq!(holder.status(), 200);
    let first = holder.chunk().await.unwrap().unwrap();
    assert!(String::from_utf8_lossy(&first).contains("chat.completion.chunk"));

    // One request waits in the queue …
    let waiting = tokio::spawn({
        let (client, chat) = (client.clone(), chat.clone());
        async move { client.post(&chat).json(&short()).send().await.unwrap() }
    });
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let health = health(&client, &server).await;
        if health["inference"]["waiting"] == 1 {
            assert_eq!(health["inference"]["running"], 1);
            break;
        }
        assert!(Instant::now() < deadline, "{health}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    // … so the next is refused at once, with a hint.
    let full = client.post(&chat).json(&short()).send().await.unwrap();
    assert_eq!(full.status(), 503);
    let retry_after: u64 = full.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!(retry_after >= 1);
    let body: Value = full.json().await.unwrap();
    assert_eq!(body["error"]["code"], "queue_full");

    // Bad requests meanwhile: each refused with its own status.
    let unknown = client
        .post(&chat)
        .json(&json!({"model": "nope", "messages": [{"role": "user", "content": "x"}]}))
        .send()
        .await
        .unwrap();
    assert_eq!(unknown.status(), 404);
    let malformed = client
        .post(&chat)
        .header("content-type", "application/json")
        .body("{not json")
        .send()
        .await
        .unwrap();
    assert_eq!(malformed.status(), 400);
    let too_long = client
        .post(&chat)
        .json(&json!({"messages": [{"role": "user", "content": "x"}], "max_tokens": 5000}))
        .send()
        .await
        .unwrap();
    assert_eq!(too_long.status(), 400);

    // The stream in flight carried on through all of that.
    let mut more = 0;
    while more < 20 {
        let chunk = holder
            .chunk()
            .await
            .unwrap()
            .expect("the stream is still going");
        more += String::from_utf8_lossy(&chunk).matches("data: ").count();
    }

    // Its client goes away: the slot frees and the waiting request is served.
    drop(holder);
    let served = tokio::time::timeout(Duration::from_secs(60), waiting)
        .await
        .expect("the waiting request was served after the stream's client left")
        .unwrap();
    assert_eq!(served.status(), 200);
    let body: Value = served.json().await.unwrap();
    assert!(
        body["usage"]["completion_tokens"].as_u64().unwrap() >= 1,
        "{body}"
    );
    let health = health(&client, &server).await;
    assert_eq!(health["inference"]["running"], 0, "{health}");
}
