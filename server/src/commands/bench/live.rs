//! `switchyard bench live`: the live WebSocket under load. N clients on loopback each follow
//! one of a set of busy runs (`/api/v1/live`, as a browser tab does); the runs are released at
//! once (each waits at an approval gate, then fans out into many `noop` steps), and every
//! client measures, for every event it receives, the time from the event's commit (its `at`)
//! to its arrival. Printed per round: events published per second, deliveries, and the
//! commit → client latency p50 / p99 / max, beside the same round with one client (the
//! baseline, in the same run).
//!
//! Starts this binary as a server on a free port with a scratch data dir (sign-in off).

use std::ffi::OsString;
use std::time::{Duration, Instant};

use futures_util::{SinkExt, StreamExt};
use serde_json::{Value, json};
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;

use super::child::ChildServer;
use super::{millis, percentile, thousands};

/// One round's shape.
#[derive(Debug, Clone, Copy)]
struct Round {
    clients: usize,
    runs: usize,
    /// `noop` steps per run after its gate (each makes two events: leased, succeeded).
    steps: usize,
}

/// What one round measured.
struct Measured {
    events: usize,
    publish_window: Duration,
    deliveries: usize,
    latencies: Vec<Duration>,
}

pub async fn run(quick: bool) -> Result<(), String> {
    let (runs, steps) = if quick { (10, 50) } else { (20, 200) };
    let rounds = [1, 100, 1_000].map(|clients| Round {
        clients,
        runs,
        steps,
    });
    let server = ChildServer::start(&[] as &[OsString], false)?;
    let http = reqwest::Client::new();
    println!(
        "live socket benchmark{}: {}, {runs} runs of 1 gate + {steps} parallel noop steps per \
         round, every client following one run",
        if quick { " (quick)" } else { "" },
        server.base
    );
    println!();
    println!(
        "| clients | events published | events/s | deliveries | commit → client p50 | p99 | max | p99 / 1-client p99 |"
    );
    println!("|---|---|---|---|---|---|---|---|");
    let mut baseline_p99 = None;
    for round in rounds {
        let measured = measure(&server.base, &http, round).await?;
        let mut latencies = measured.latencies;
        latencies.sort();
        let p99 = percentile(&latencies, 99.0);
        let baseline = *baseline_p99.get_or_insert(p99);
        println!(
            "| {} | {} | {} | {} | {} | {} | {} | {:.2}x |",
            round.clients,
            thousands(measured.events as f64),
            thousands(measured.events as f64 / measured.publish_window.as_secs_f64().max(1e-9)),
            thousands(measured.deliveries as f64),
            millis(percentile(&latencies, 50.0)),
            millis(p99),
            millis(latencies.last().copied().unwrap_or_default()),
            p99.as_secs_f64() / baseline.as_secs_f64().max(1e-9),
        );
    }
    Ok(())
}

async fn measure(base: &str, http: &reqwest::Client, round: Round) -> Result<Measured, String> {
    // The runs, each held at its gate until every client follows one.
    let mut ids = Vec::with_capacity(round.runs);
    for _ in 0..round.runs {
        let mut steps = vec![
            json!({"key": "gate", "agent": "default", "tool": "approval", "input": {"summary": "bench"}}),
        ];
        steps.extend((0..round.steps).map(|i| {
            json!({"key": format!("s{i}"), "agent": "default", "tool": "noop", "depends_on": ["gate"]})
        }));
        let created: Value = http
            .post(format!("{base}/api/v1/runs"))
            .json(&json!({"plan": {"steps": steps}}))
            .send()
            .await
            .map_err(|e| e.to_string())?
            .json()
            .await
            .map_err(|e| e.to_string())?;
        let id = created["id"]
            .as_str()
            .ok_or_else(|| format!("no run id in {created}"))?;
        ids.push(id.to_owned());
    }
    // The clients: connect, follow, and report when they have the run's backlog.
    let ws_base = base.replacen("http://", "ws://", 1);
    let (ready_tx, mut ready_rx) = tokio::sync::mpsc::channel::<()>(round.clients);
    let mut clients = Vec::with_capacity(round.clients);
    for i in 0..round.clients {
        let mut request = format!("{ws_base}/api/v1/live")
            .into_client_request()
            .map_err(|e| e.to_string())?;
        request.headers_mut().insert(
            "origin",
            base.parse().map_err(|_| "a bad base URL".to_owned())?,
        );
        let (mut socket, _) = tokio_tungstenite::connect_async(request)
            .await
            .map_err(|e| format!("client {i} could not connect: {e}"))?;
        let run = ids[i % ids.len()].clone();
        socket
            .send(Message::text(
                json!({"subscribe": run, "after": 0}).to_string(),
            ))
            .await
            .map_err(|e| e.to_string())?;
        let ready = ready_tx.clone();
        clients.push(tokio::spawn(async move { follow(socket, ready).await }));
    }
    for _ in 0..round.clients {
        tokio::time::timeout(Duration::from_secs(60), ready_rx.recv())
            .await
            .map_err(|_| "clients did not all get their run's first events within 60 s")?;
    }
    // Release every run at once.
    let released = Instant::now();
    let approvals = ids.iter().map(|id| {
        http.post(format!("{base}/api/v1/runs/{id}/steps/gate/approve"))
            .json(&json!({"rationale": "bench"}))
            .send()
    });
    for answer in futures_util::future::join_all(approvals).await {
        let status = answer.map_err(|e| e.to_string())?.status();
        if status.as_u16() != 204 {
            return Err(format!("approving a gate answered {status}"));
        }
    }
    let mut measured = Measured {
        events: 0,
        publish_window: Duration::ZERO,
        deliveries: 0,
        latencies: Vec::new(),
    };
    for client in clients {
        let latencies = tokio::time::timeout(Duration::from_secs(120), client)
            .await
            .map_err(|_| "a client did not see its run end within 120 s")?
            .map_err(|e| e.to_string())??;
        measured.deliveries += latencies.len();
        measured.latencies.extend(latencies);
    }
    // What was published: every run's events after its release (once every run has ended,
    // followed or not), over the time they took.
    let mut first_at = None::<Timestamp>;
    let mut last_at = None::<Timestamp>;
    for id in &ids {
        let events = ended_log(http, base, id).await?;
        for event in events.iter().skip_while(|e| e["kind"] != "step_approved") {
            measured.events += 1;
            if let Some(at) = committed_at(event) {
                first_at = Some(first_at.map_or(at, |f| f.min(at)));
                last_at = Some(last_at.map_or(at, |l| l.max(at)));
            }
        }
    }
    measured.publish_window = match (first_at, last_at) {
        (Some(first), Some(last)) => (last - first).to_std().unwrap_or_default(),
        _ => released.elapsed(),
    };
    Ok(measured)
}

type Timestamp = chrono::DateTime<chrono::Utc>;

/// A live socket message, as far as the clients read it.
#[derive(serde::Deserialize)]
struct Incoming<'a> {
    #[serde(borrow)]
    event: Option<EventHead<'a>>,
}

/// An event's sequence number, kind and commit time; the rest is skipped unread.
#[derive(serde::Deserialize)]
struct EventHead<'a> {
    seq: u64,
    #[serde(borrow)]
    kind: std::borrow::Cow<'a, str>,
    #[serde(borrow)]
    at: std::borrow::Cow<'a, str>,
}

/// When an event was recorded (its `at`).
fn committed_at(event: &Value) -> Option<Timestamp> {
    event["at"].as_str().and_then(|t| t.parse().ok())
}

/// Run `id`'s whole log, once the run has ended (60 s at most).
async fn ended_log(http: &reqwest::Client, base: &str, id: &str) -> Result<Vec<Value>, String> {
    for _ in 0..600 {
        let log: Value = http
            .get(format!("{base}/api/v1/runs/{id}/events"))
            .send()
            .await
            .map_err(|e| e.to_string())?
            .json()
            .await
            .map_err(|e| e.to_string())?;
        let events = log["events"].as_array().cloned().unwrap_or_default();
        let ended = events.last().is_some_and(|e| {
            matches!(
                e["kind"].as_str(),
                Some("run_succeeded" | "run_failed" | "run_cancelled")
            )
        });
        if ended {
            return Ok(events);
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    Err(format!("run {id} did not end within 60 s"))
}

/// Reads one client's socket until its run ends: the latency of every event after the gate's
/// approval. Says `ready` once the run's backlog (created, started) has arrived.
async fn follow(
    mut socket: tokio_tungstenite::WebSocketStream<
        tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>,
    >,
    ready: tokio::sync::mpsc::Sender<()>,
) -> Result<Vec<Duration>, String> {
    let mut latencies = Vec::new();
    let mut told = false;
    let mut released = false;
    while let Some(message) = socket.next().await {
        let Message::Text(text) = message.map_err(|e| e.to_string())? else {
            continue;
        };
        let arrived = chrono::Utc::now();
        // Only the fields measured are decoded: the clients share the machine with the server.
        let message: Incoming = serde_json::from_str(&text).map_err(|e| e.to_string())?;
        let Some(event) = message.event else {
            continue;
        };
        if !told && event.seq >= 2 {
            told = true;
            let _ = ready.send(()).await;
        }
        if event.kind == "step_approved" {
            released = true;
        }
        if released && let Ok(at) = event.at.parse::<Timestamp>() {
            latencies.push((arrived - at).to_std().unwrap_or_default());
        }
        if matches!(
            event.kind.as_ref(),
            "run_succeeded" | "run_failed" | "run_cancelled"
        ) {
            break;
        }
    }
    let _ = socket.close(None).await;
    Ok(latencies)
}
