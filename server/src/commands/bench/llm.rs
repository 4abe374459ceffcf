//! `switchyard bench llm --model FILE`: prompt tok/s, decode tok/s and time to first token,
//! at 1 and 4 concurrent requests, through the engine directly and through the HTTP endpoint
//! (`/v1/chat/completions`, streamed, on this binary started as a server) — the second beside
//! the first shows what our path costs.
//!
//! `--write-model` first writes a random-weight model of Qwen2.5-0.5B's shape (about 415 M
//! parameters, Q4_K_M) to FILE, for machines with no model to hand.

use std::ffi::OsString;
use std::path::Path;
use std::time::{Duration, Instant};

use super::child::ChildServer;
use switchyard_inference::test_model::{ModelShape, write_gguf};
use switchyard_inference::{
    ChatMessage, ChatRequest, ComputeDType, Host, HostSettings, Limits, ModelSpec,
};

/// Figures of one round of concurrent requests.
#[derive(Debug, Default, Clone, Copy)]
struct Round {
    ttft_ms: f64,
    prompt_tok_s: f64,
    /// Per request, tokens after the first per second.
    decode_tok_s: f64,
    /// All requests' tokens over the round's wall time.
    total_tok_s: f64,
}

pub async fn run(
    model: &Path,
    quick: bool,
    write_model: bool,
    dtype: ComputeDType,
) -> Result<(), String> {
    if write_model {
        let started = Instant::now();
        let written = write_gguf(model, &ModelShape::qwen05b(), 1)
            .map_err(|e| format!("cannot write {}: {e}", model.display()))?;
        println!(
            "wrote {} ({} parameters, {:.0} MiB, Q4_K_M mix) in {:.1} s",
            model.display(),
            super::thousands(written.parameters as f64),
            written.bytes as f64 / 1_048_576.0,
            started.elapsed().as_secs_f64()
        );
    }
    if !model.is_file() {
        return Err(format!(
            "no model at {} (pass --write-model to write a test model there)",
            model.display()
        ));
    }
    let (prompt_words, max_tokens, repeats) = if quick { (60, 16, 1) } else { (300, 64, 3) };
    let prompt = "the quick brown fox jumps over the lazy dog ".repeat(prompt_words / 9 + 1);
    println!(
        "llm benchmark{}: {}, prompt ~{prompt_words} words, {max_tokens} tokens per answer, \
         {repeats} round(s) per setting, {} threads, dtype {}",
        if quick { " (quick)" } else { "" },
        model.display(),
        std::thread::available_parallelism().map_or(1, |n| n.get()),
        dtype.as_str()
    );

    let host = Host::start(HostSettings {
        models: vec![ModelSpec {
            id: "bench".into(),
            path: model.to_owned(),
            isq: None,
            dtype,
        }],
        default_model: None,
        limits: Limits {
            max_concurrent: 4,
            queue: 16,
            max_tokens,
            max_prompt_tokens: 32_768,
            deadline: Duration::from_secs(3_600),
        },
        force_cpu: false,
        cache_dir: Some(std::env::temp_dir().join("switchyard-bench-models")),
    })?;
    let loading = Instant::now();
    if !host.wait_loaded(Duration::from_secs(600)).await {
        return Err("the model did not load within 10 minutes".into());
    }
    host.model(None).map_err(|e| e.to_string())?;
    println!(
        "loaded in {:.2} s on {}",
        loading.elapsed().as_secs_f64(),
        host.status().device
    );
    let request = || ChatRequest {
        messages: vec![ChatMessage::new("user", prompt.clone())],
        max_tokens: Some(max_tokens),
        ..ChatRequest::default()
    };
    // Warm-up: first-use allocations and page faults stay out of the figures.
    let (_, warm_up) = host
        .chat(request())
        .await
        .map_err(|e| e.to_string())?
        .collect()
        .await
        .map_err(|e| e.to_string())?;
    println!(
        "prompt: {} tokens after the chat template (compare with llama-bench -p {0} -n {max_tokens})",
        warm_up.usage.prompt_tokens
    );

    let mut engine = Vec::new();
    for concurrency in [1, 4] {
        engine.push(best_of(repeats, || engine_round(&host, concurrency, request)).await?);
    }
    drop(host);

    let model = std::fs::canonicalize(model).map_err(|e| e.to_string())?;
    let server = ChildServer::start(&[OsString::from("--model"), model.into_os_string()], true)?;
    let mut http = Vec::new();
    for concurrency in [1, 4] {
        http.push(
            best_of(repeats, || {
                http_round(&server.base, concurrency, &prompt, max_tokens)
            })
            .await?,
        );
    }
    drop(server);

    println!();
    println!(
        "| path | concurrent | TTFT | prompt tok/s | decode tok/s (per request) | tok/s (all) |"
    );
    println!("|---|---|---|---|---|---|");
    for (path, rounds) in [("engine", &engine), ("HTTP /v1", &http)] {
        for (concurrency, r) in [1, 4].iter().zip(rounds.iter()) {
            println!(
                "| {path} | {concurrency} | {:.1} ms | {:.1} | {:.1} | {:.1} |",
                r.ttft_ms, r.prompt_tok_s, r.decode_tok_s, r.total_tok_s
            );
        }
    }
    println!();
    for (i, concurrency) in [1, 4].iter().enumerate() {
        println!(
            "HTTP / engine at {concurrency}: decode {:.3}x, TTFT {:.3}x",
            http[i].decode_tok_s / engine[i].decode_tok_s.max(f64::MIN_POSITIVE),
            http[i].ttft_ms / engine[i].ttft_ms.max(f64::MIN_POSITIVE)
        );
    }
    Ok(())
}

/// The round with the best total throughput of `repeats`.
async fn best_of<F, Fut>(repeats: usize, mut round: F) -> Result<Round, String>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<Round, String>>,
{
    let mut best: Option<Round> = None;
    for _ in 0..repeats {
        let r = round().await?;
        if best.is_none_or(|b| r.total_tok_s > b.total_tok_s) {
            best = Some(r);
        }
    }
    best.ok_or_else(|| "no round ran".into())
}

async fn engine_round(
    host: &Host,
    concurrency: usize,
    request: impl Fn() -> ChatRequest,
) -> Result<Round, String> {
    let started = Instant::now();
    let tasks: Vec<_> = (0..concurrency)
        .map(|_| {
            let (host, request) = (host.clone(), request());
            tokio::spawn(async move {
                let generation = host.chat(request).await.map_err(|e| e.to_string())?;
                let (_, finished) = generation.collect().await.map_err(|e| e.to_string())?;
                Ok::<_, String>(finished.usage)
            })
        })
        .collect();
    let mut usages = Vec::new();
    for t in tasks {
        usages.push(t.await.map_err(|e| e.to_string())??);
    }
    let wall = started.elapsed().as_secs_f64();
    let n = usages.len() as f64;
    Ok(Round {
        ttft_ms: usages.iter().map(|u| u.ttft_ms).sum::<f64>() / n,
        prompt_tok_s: usages.iter().map(|u| u.prompt_tok_s).sum::<f64>() / n,
        decode_tok_s: usages.iter().map(|u| u.decode_tok_s).sum::<f64>() / n,
        total_tok_s: usages
            .iter()
            .map(|u| u.completion_tokens as f64)
            .sum::<f64>()
            / wall,
    })
}

async fn http_round(
    base: &str,
    concurrency: usize,
    prompt: &str,
    max_tokens: usize,
) -> Result<Round, String> {
    let client = reqwest::Client::new();
    let started = Instant::now();
    let tasks: Vec<_> = (0..concurrency)
        .map(|_| {
            let client = client.clone();
            let url = format!("{base}/v1/chat/completions");
            let body = serde_json::json!({
                "messages": [{"role": "user", "content": prompt}],
                "max_tokens": max_tokens,
                "stream": true,
                "stream_options": {"include_usage": true}
            });
            tokio::spawn(async move { stream_once(&client, &url, &body).await })
        })
        .collect();
    let mut results = Vec::new();
    for t in tasks {
        results.push(t.await.map_err(|e| e.to_string())??);
    }
    let wall = started.elapsed().as_secs_f64();
    let n = results.len() as f64;
    Ok(Round {
        ttft_ms: results.iter().map(|r| r.0).sum::<f64>() / n,
        prompt_tok_s: results.iter().map(|r| r.1).sum::<f64>() / n,
        decode_tok_s: results.iter().map(|r| r.2).sum::<f64>() / n,
        total_tok_s: results.iter().map(|r| r.3 as f64).sum::<f64>() / wall,
    })
}

/// One streamed request, timed on the client: (TTFT ms, the server's prompt tok/s, decode
/// tok/s, completion tokens).
async fn stream_once(
    client: &reqwest::Client,
    url: &str,
    body: &serde_json::Value,
) -> Result<(f64, f64, f64, usize), String> {
    let sent = Instant::now();
    let mut response = client
        .post(url)
        .json(body)
        .send()
        .await
        .map_err(|e| e.to_string())?;
    if !response.status().is_success() {
        return Err(format!("HTTP {}", response.status()));
    }
    let mut first: Option<Instant> = None;
    let mut usage = serde_json::Value::Null;
    super::read_sse(&mut response, |chunk| {
        if super::has_text(chunk) {
            first.get_or_insert_with(Instant::now);
        }
        if !chunk["usage"].is_null() {
            usage = chunk.clone();
        }
    })
    .await?;
    let end = Instant::now();
    let first = first.unwrap_or(end);
    let tokens = usage["usage"]["completion_tokens"].as_u64().unwrap_or(0) as usize;
    let decode = (end - first).as_secs_f64();
    Ok((
        (first - sent).as_secs_f64() * 1e3,
        usage["timings"]["prompt_tok_s"].as_f64().unwrap_or(0.0),
        if decode > 0.0 && tokens > 1 {
            (tokens - 1) as f64 / decode
        } else {
            0.0
        },
        tokens,
    ))
}
