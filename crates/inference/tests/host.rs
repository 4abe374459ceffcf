//! The host on the real mistral.rs path, with a tiny random-weight model written by
//! `test_model`: load, generate, stream, constrain, refuse, queue, cancel.

use std::path::Path;
use std::time::Duration;

use serde_json::json;
use switchyard_inference::test_model::{ModelShape, write_gguf, write_safetensors_dir};
use switchyard_inference::{
    ChatMessage, ChatRequest, Host, HostSettings, InferenceError, Isq, Limits, ModelSpec, Piece,
};

fn tiny(dir: &Path) -> ModelSpec {
    let path = dir.join("tiny.gguf");
    write_gguf(&path, &ModelShape::tiny(), 7).unwrap();
    ModelSpec {
        id: "tiny".into(),
        path,
        isq: None,
        dtype: Default::default(),
    }
}

async fn host_with(dir: &Path, limits: Limits) -> Host {
    let host = Host::start(HostSettings {
        models: vec![tiny(dir)],
        default_model: None,
        limits,
        force_cpu: true,
        cache_dir: None,
    })
    .unwrap();
    assert!(host.wait_loaded(Duration::from_secs(120)).await);
    host
}

fn ask(text: &str, max_tokens: usize) -> ChatRequest {
    ChatRequest {
        messages: vec![ChatMessage::new("user", text)],
        max_tokens: Some(max_tokens),
        ..ChatRequest::default()
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_generated_model_loads_and_answers_with_usage() {
    let dir = tempfile::tempdir().unwrap();
    let host = host_with(dir.path(), Limits::default()).await;
    let status = host.status();
    assert!(status.device.starts_with("cpu"), "{status:?}");
    assert_eq!(status.models.len(), 1);
    assert_eq!(status.models[0].state, "ready", "{status:?}");
    assert_eq!(status.models[0].progress_pct, 100);
    assert!(status.models[0].default);
    assert_eq!(host.ready_models(), vec!["tiny".to_owned()]);

    let mut usage_rx = host.subscribe_usage();
    let mut generation = host.chat(ask("Say hello.", 12)).await.unwrap();
    assert_eq!(generation.model, "tiny");
    let mut pieces = 0;
    let finished = loop {
        match generation.next().await.expect("a piece").unwrap() {
            Piece::Text(_) => pieces += 1,
            Piece::Done(f) => break f,
        }
    };
    assert!(pieces >= 1);
    let usage = &finished.usage;
    assert!(
        usage.completion_tokens >= 1 && usage.completion_tokens <= 12,
        "{usage:?}"
    );
    assert!(
        usage.prompt_tokens > 5,
        "the chat template adds tokens: {usage:?}"
    );
    assert!(
        usage.ttft_ms > 0.0 && usage.total_ms >= usage.ttft_ms,
        "{usage:?}"
    );
    assert!(usage.prompt_tok_s > 0.0, "{usage:?}");
    if finished.finish_reason == "length" {
        assert_eq!(usage.completion_tokens, 12);
    }
    let published = usage_rx.recv().await.unwrap();
    assert_eq!(&published, usage);

    // A one-token answer, where mistral.rs reports no prompt speed of its own.
    let mut generation = host.chat(ask("Say hello.", 1)).await.unwrap();
    let finished = loop {
        if let Piece::Done(f) = generation.next().await.expect("a piece").unwrap() {
            break f;
        }
    };
    let usage = &finished.usage;
    assert_eq!(usage.completion_tokens, 1, "{usage:?}");
    assert!(
        usage.prompt_tok_s > 0.0 && usage.prompt_tok_s.is_finite(),
        "a one-token answer still has a prompt speed: {usage:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_json_schema_constrains_the_answer() {
    let dir = tempfile::tempdir().unwrap();
    let host = host_with(dir.path(), Limits::default()).await;
    let schema = json!({
        "type": "object",
        "properties": {
            "ok": {"type": "boolean"},
            "colour": {"enum": ["red", "green", "blue"]}
        },
        "required": ["ok", "colour"],
        "additionalProperties": false
    });
    let request = ChatRequest {
        json_schema: Some(schema),
        ..ask("Answer in JSON.", 64)
    };
    let (text, finished) = host.chat(request).await.unwrap().collect().await.unwrap();
    let value: serde_json::Value =
        serde_json::from_str(&text).unwrap_or_else(|e| panic!("{e}: {text:?}"));
    assert!(value["ok"].is_boolean(), "{value}");
    assert!(["red", "green", "blue"].contains(&value["colour"].as_str().unwrap()));
    assert_eq!(finished.finish_reason, "stop", "{text}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn refusals_name_what_is_wrong() {
    let dir = tempfile::tempdir().unwrap();
    let limits = Limits {
        max_tokens: 100,
        max_prompt_tokens: 50,
        ..Limits::default()
    };
    let host = host_with(dir.path(), limits).await;

    let err = host.chat(ask("hi", 101)).await.unwrap_err();
    assert_eq!(
        err,
        InferenceError::TooManyTokens {
            asked: 101,
            limit: 100
        }
    );
    assert!(err.to_string().contains("inference_max_tokens"));

    let err = host.chat(ask(&"word ".repeat(200), 10)).await.unwrap_err();
    let InferenceError::PromptTooLong { tokens, limit: 50 } = err else {
        panic!("{err:?}");
    };
    assert!(tokens > 50);
    assert!(err.to_string().contains("inference_max_prompt_tokens"));

    let err = host
        .chat(ChatRequest {
            model: Some("nope".into()),
            ..ask("hi", 5)
        })
        .await
        .unwrap_err();
    assert_eq!(err, InferenceError::UnknownModel("nope".into()));

    let err = host
        .chat(ChatRequest {
            messages: vec![ChatMessage::new("wizard", "hi")],
            ..ask("", 5)
        })
        .await
        .unwrap_err();
    assert!(err.to_string().contains("messages[0].role"), "{err}");

    // None of that disturbed the host: it still answers.
    let (_, finished) = host
        .chat(ask("hi", 4))
        .await
        .unwrap()
        .collect()
        .await
        .unwrap();
    assert!(finished.usage.completion_tokens >= 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_model_is_a_normal_state_that_names_the_setting() {
    let host = Host::start(HostSettings::default()).unwrap();
    assert!(!host.configured());
    let status = host.status();
    assert!(status.models.is_empty());
    assert!(
        status.message.as_deref().unwrap().contains("`models`"),
        "{status:?}"
    );
    let err = host.chat(ask("hi", 5)).await.unwrap_err();
    assert_eq!(err, InferenceError::NoModel);
    assert!(err.to_string().contains("--model PATH"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_missing_file_fails_its_model_only() {
    let dir = tempfile::tempdir().unwrap();
    let host = Host::start(HostSettings {
        models: vec![
            tiny(dir.path()),
            ModelSpec {
                id: "ghost".into(),
                path: dir.path().join("missing.gguf"),
                isq: None,
                dtype: Default::default(),
            },
        ],
        default_model: Some("tiny".into()),
        limits: Limits::default(),
        force_cpu: true,
        cache_dir: None,
    })
    .unwrap();
    assert!(host.wait_loaded(Duration::from_secs(120)).await);
    let status = host.status();
    let ghost = status.models.iter().find(|m| m.id == "ghost").unwrap();
    assert_eq!(ghost.state, "failed");
    assert!(
        ghost.error.as_deref().unwrap().contains("does not exist"),
        "{ghost:?}"
    );
    let err = host
        .chat(ChatRequest {
            model: Some("ghost".into()),
            ..ask("hi", 5)
        })
        .await
        .unwrap_err();
    assert!(matches!(err, InferenceError::NotReady { .. }), "{err:?}");
    host.chat(ask("hi", 3))
        .await
        .unwrap()
        .collect()
        .await
        .unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_full_queue_refuses_and_a_dropped_request_frees_its_slot() {
    let dir = tempfile::tempdir().unwrap();
    let limits = Limits {
        max_concurrent: 1,
        queue: 1,
        max_tokens: 4000,
        ..Limits::default()
    };
    let host = host_with(dir.path(), limits).await;
    // A long answer holds the only slot: an array that must have many items.
    let long = ChatRequest {
        json_schema: Some(json!({"type": "array", "items": {"const": 1}, "minItems": 3000})),
        ..ask("count", 4000)
    };
    let mut holder = host.chat(long).await.unwrap();
    assert!(matches!(holder.next().await, Some(Ok(Piece::Text(_)))));

    let waiter = tokio::spawn({
        let host = host.clone();
        async move { host.chat(ask("next", 3)).await }
    });
    while host.status().waiting < 1 {
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    let refused = host.chat(ask("one too many", 3)).await.unwrap_err();
    let InferenceError::QueueFull { retry_after, .. } = refused else {
        panic!("{refused:?}");
    };
    assert!(retry_after >= Duration::from_secs(1));

    // The client of the long answer goes away: its slot is freed and the waiter is served.
    drop(holder);
    let served = tokio::time::timeout(Duration::from_secs(60), async {
        waiter.await.unwrap().unwrap().collect().await
    })
    .await
    .expect("the waiter got the slot after the holder left")
    .unwrap();
    assert!(served.1.usage.completion_tokens >= 1);
    assert_eq!(host.status().running, 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_safetensors_directory_loads_with_in_situ_quantization() {
    let dir = tempfile::tempdir().unwrap();
    let model_dir = dir.path().join("tiny-llama");
    write_safetensors_dir(&model_dir, &ModelShape::tiny(), 3).unwrap();
    let host = Host::start(HostSettings {
        models: vec![ModelSpec {
            id: "st".into(),
            path: model_dir,
            isq: Some(Isq::Q8_0),
            dtype: Default::default(),
        }],
        default_model: None,
        limits: Limits::default(),
        force_cpu: true,
        cache_dir: None,
    })
    .unwrap();
    assert!(host.wait_loaded(Duration::from_secs(120)).await);
    let status = host.status();
    assert_eq!(status.models[0].state, "ready", "{status:?}");
    let (_, finished) = host
        .chat(ask("Say hello.", 6))
        .await
        .unwrap()
        .collect()
        .await
        .unwrap();
    assert!(finished.usage.completion_tokens >= 1, "{finished:?}");
    assert!(
        finished.usage.prompt_tokens > 5,
        "the chat template was applied: {finished:?}"
    );
    let request = ChatRequest {
        json_schema: Some(
            json!({"type": "object", "properties": {"ok": {"type": "boolean"}},
                                 "required": ["ok"], "additionalProperties": false}),
        ),
        ..ask("JSON please.", 32)
    };
    let (text, _) = host.chat(request).await.unwrap().collect().await.unwrap();
    let value: serde_json::Value =
        serde_json::from_str(&text).unwrap_or_else(|e| panic!("{e}: {text}"));
    assert!(value["ok"].is_boolean());
}
