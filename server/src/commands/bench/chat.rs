//! `switchyard bench chat --model FILE`: the orchestrator panel's chat path beside
//! `/v1/chat/completions`, on one server with one model, one request at a time: time to first
//! token and decode tokens/s, both measured by the client.
//!
//! The panel's path is what a tab does: `POST /api/fn/send_chat` (the server records the turn
//! and starts the answer on a task of its own), then `{"answer": "CONVERSATION:SEQ"}` on the
//! tab's live socket (already open, as a tab's is), whose states carry the text so far. The
//! baseline is the same prompt streamed from `/v1/chat/completions` with the same token limit.
//! Each round starts a new conversation, so both prompts are the one message alone.

use std::ffi::OsString;
use std::path::Path;
use std::time::{Duration, Instant};

use futures_util::{SinkExt, StreamExt};
use serde_json::{Value, json};
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;

use super::child::ChildServer;
use super::percentile;

/// One answer, timed on the client.
#[derive(Debug, Clone, Copy)]
struct Timed {
    ttft_ms: f64,
    /// Tokens after the first, per second from the first to the last.
    decode_tok_s: f64,
    tokens: u64,
}

pub async fn run(model: &Path, quick: bool) -> Result<(), String> {
    if !model.is_file() {
        return Err(format!(
            "no model at {} (write one with `switchyard model write-test FILE`)",
            model.display()
        ));
    }
    let (prompt_words, max_tokens, rounds) = if quick { (40, 24, 3) } else { (200, 64, 10) };
    let prompt = "the quick brown fox jumps over the lazy dog ".repeat(prompt_words / 9 + 1);
    let dir = tempfile::tempdir().map_err(|e| e.to_string())?;
    let config = dir.path().join("switchyard.toml");
    let model = std::fs::canonicalize(model).map_err(|e| e.to_string())?;
    std::fs::write(
        &config,
        format!(
            "inference_max_tokens = {max_tokens}\n\n[[models]]\nid = \"bench\"\npath = {}\n",
            toml_string(&model.display().to_string())
        ),
    )
    .map_err(|e| e.to_string())?;
    println!(
        "chat benchmark{}: {}, prompt ~{prompt_words} words, {max_tokens} tokens per answer, \
         {rounds} rounds per path (alternating), one request at a time",
        if quick { " (quick)" } else { "" },
        model.display(),
    );
    let server = ChildServer::start(&[OsString::from("--config"), config.into_os_string()], true)?;
    let client = reqwest::Client::new();
    let mut socket = open_socket(&server.base).await?;
    // Warm-up, both paths: first-use allocations stay out of the figures.
    panel_once(&client, &mut socket, &server.base, &prompt).await?;
    v1_once(&client, &server.base, &prompt, max_tokens).await?;
    let (mut panel, mut v1) = (Vec::new(), Vec::new());
    for _ in 0..rounds {
        panel.push(panel_once(&client, &mut socket, &server.base, &prompt).await?);
        v1.push(v1_once(&client, &server.base, &prompt, max_tokens).await?);
    }
    drop(server);

    println!();
    println!("| path | TTFT p50 | TTFT p90 | decode tok/s p50 | tokens per answer |");
    println!("|---|---|---|---|---|");
    let mut medians = Vec::new();
    for (path, answers) in [
        ("panel (send_chat + live socket)", &panel),
        ("/v1/chat/completions", &v1),
    ] {
        let ttft = sorted(answers.iter().map(|a| a.ttft_ms));
        let decode = sorted(answers.iter().map(|a| a.decode_tok_s));
        let tokens = answers.iter().map(|a| a.tokens).sum::<u64>() / answers.len() as u64;
        println!(
            "| {path} | {:.1} ms | {:.1} ms | {:.1} | {tokens} |",
            percentile(&ttft, 50.0),
            percentile(&ttft, 90.0),
            percentile(&decode, 50.0)
        );
        medians.push((percentile(&ttft, 50.0), percentile(&decode, 50.0)));
    }
    let ((panel_ttft, panel_decode), (v1_ttft, v1_decode)) = (medians[0], medians[1]);
    println!();
    println!(
        "panel / v1 (medians): TTFT {:.3}x ({:+.1} ms), decode tok/s {:.3}x (aim: within 5 %)",
        panel_ttft / v1_ttft.max(f64::MIN_POSITIVE),
        panel_ttft - v1_ttft,
        panel_decode / v1_decode.max(f64::MIN_POSITIVE)
    );
    Ok(())
}

type Socket =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

async fn open_socket(base: &str) -> Result<Socket, String> {
    let mut request = format!("{}/api/v1/live", base.replacen("http://", "ws://", 1))
        .into_client_request()
        .map_err(|e| e.to_string())?;
    request.headers_mut().insert(
        "origin",
        base.parse().map_err(|_| "a bad base URL".to_owned())?,
    );
    let (socket, _) = tokio_tungstenite::connect_async(request)
        .await
        .map_err(|e| format!("cannot open the live socket: {e}"))?;
    Ok(socket)
}

/// One answer through the panel's path: a new conversation, its answer followed on `socket`.
async fn panel_once(
    client: &reqwest::Client,
    socket: &mut Socket,
    base: &str,
    prompt: &str,
) -> Result<Timed, String> {
    let sent = Instant::now();
    let response = client
        .post(format!("{base}/api/fn/send_chat"))
        .header("origin", base)
        .form(&[("text", prompt)])
        .send()
        .await
        .map_err(|e| e.to_string())?;
    let status = response.status();
    let started: Value = response.json().await.map_err(|e| e.to_string())?;
    if !status.is_success() {
        return Err(format!("send_chat answered {status}: {started}"));
    }
    let key = format!(
        "{}:{}",
        started["conversation"].as_str().ok_or("no conversation")?,
        started["seq"]
    );
    socket
        .send(Message::text(json!({ "answer": key }).to_string()))
        .await
        .map_err(|e| e.to_string())?;
    let mut first: Option<Instant> = None;
    loop {
        let frame = tokio::time::timeout(Duration::from_secs(120), socket.next())
            .await
            .map_err(|_| "no answer state within 120 s")?
            .ok_or("the live socket closed")?
            .map_err(|e| e.to_string())?;
        let Message::Text(text) = frame else { continue };
        let message: Value = serde_json::from_str(&text).map_err(|e| e.to_string())?;
        if message["answer"].as_str() != Some(key.as_str()) {
            continue;
        }
        let progress = &message["progress"];
        if progress["content"].as_str().is_some_and(|c| !c.is_empty()) {
            first.get_or_insert_with(Instant::now);
        }
        match progress["status"].as_str() {
            Some("generating") => {}
            Some("done") => {
                let tokens = progress["figures"]["completion_tokens"]
                    .as_u64()
                    .unwrap_or(0);
                return Ok(timed(sent, first, Instant::now(), tokens));
            }
            other => return Err(format!("the answer ended {other:?}: {progress}")),
        }
    }
}

/// One answer streamed from `/v1/chat/completions`.
async fn v1_once(
    client: &reqwest::Client,
    base: &str,
    prompt: &str,
    max_tokens: usize,
) -> Result<Timed, String> {
    let body = json!({
        "messages": [{"role": "user", "content": prompt}],
        "max_tokens": max_tokens,
        "stream": true,
        "stream_options": {"include_usage": true}
    });
    let sent = Instant::now();
    let mut response = client
        .post(format!("{base}/v1/chat/completions"))
        .json(&body)
        .send()
        .await
        .map_err(|e| e.to_string())?;
    if !response.status().is_success() {
        return Err(format!(
            "/v1/chat/completions answered {}",
            response.status()
        ));
    }
    let (mut first, mut tokens) = (None, 0);
    super::read_sse(&mut response, |chunk| {
        if super::has_text(chunk) {
            first.get_or_insert_with(Instant::now);
        }
        if let Some(n) = chunk["usage"]["completion_tokens"].as_u64() {
            tokens = n;
        }
    })
    .await?;
    Ok(timed(sent, first, Instant::now(), tokens))
}

fn timed(sent: Instant, first: Option<Instant>, end: Instant, tokens: u64) -> Timed {
    let first = first.unwrap_or(end);
    let decode = (end - first).as_secs_f64();
    Timed {
        ttft_ms: (first - sent).as_secs_f64() * 1e3,
        decode_tok_s: if decode > 0.0 && tokens > 1 {
            (tokens - 1) as f64 / decode
        } else {
            0.0
        },
        tokens,
    }
}

fn sorted(values: impl Iterator<Item = f64>) -> Vec<f64> {
    let mut all: Vec<f64> = values.collect();
    all.sort_by(f64::total_cmp);
    all
}

/// A TOML basic string.
fn toml_string(text: &str) -> String {
    serde_json::to_string(text).unwrap_or_default()
}
