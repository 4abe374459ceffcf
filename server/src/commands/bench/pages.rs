//! `switchyard bench pages`: how fast pages render over real sockets — each page from one
//! keep-alive client (p50, p99, req/s) beside the same page on a fresh connection per
//! request, and `/` from ten keep-alive clients at once beside `/login` (a plain page with no
//! reactive parts) under the same load.
//!
//! Starts this binary as a server on a free port with a scratch data dir (sign-in off), or
//! measures the server at `--url`.

use std::ffi::OsString;
use std::time::{Duration, Instant};

use super::child::ChildServer;
use super::{millis, percentile, thousands};

/// The pages measured one at a time, and the status each must answer.
const PAGES: [(&str, u16); 4] = [
    ("/agents", 200),
    ("/", 200),
    ("/login", 200),
    ("/no-such-page", 404),
];

/// Connections of the concurrent round (`wrk -c10`).
const CONCURRENT: usize = 10;

pub async fn run(quick: bool, url: Option<String>) -> Result<(), String> {
    let (requests, seconds) = if quick { (200, 2) } else { (1_000, 10) };
    let server = match url {
        Some(_) => None,
        None => Some(ChildServer::start(&[] as &[OsString], false)?),
    };
    let base = url
        .or_else(|| server.as_ref().map(|s| s.base.clone()))
        .ok_or("no server to measure")?;
    println!(
        "pages benchmark{}: {base}, {requests} sequential requests per page and connection \
         kind; {CONCURRENT} keep-alive connections for {seconds} s",
        if quick { " (quick)" } else { "" }
    );
    println!();
    println!(
        "| page | keep-alive p50 | keep-alive p99 | keep-alive req/s | fresh connection p50 | keep-alive / fresh |"
    );
    println!("|---|---|---|---|---|---|");
    for (path, status) in PAGES {
        let url = format!("{base}{path}");
        let kept = sequential(&keep_alive_client(1)?, &url, status, requests).await?;
        let fresh = sequential(&fresh_client()?, &url, status, requests).await?;
        let (p50, fresh_p50) = (percentile(&kept.0, 50.0), percentile(&fresh.0, 50.0));
        println!(
            "| `{path}` | {} | {} | {} | {} | {:.2}x |",
            millis(p50),
            millis(percentile(&kept.0, 99.0)),
            thousands(requests as f64 / kept.1.as_secs_f64()),
            millis(fresh_p50),
            p50.as_secs_f64() / fresh_p50.as_secs_f64().max(1e-9),
        );
    }
    println!();
    println!("| page | connections | req/s | against `/login` |");
    println!("|---|---|---|---|");
    let window = Duration::from_secs(seconds);
    let login = concurrent(&format!("{base}/login"), window).await?;
    let home = concurrent(&format!("{base}/"), window).await?;
    println!("| `/login` | {CONCURRENT} | {} | 1.00x |", thousands(login));
    println!(
        "| `/` | {CONCURRENT} | {} | {:.2}x |",
        thousands(home),
        home / login.max(1e-9)
    );
    Ok(())
}

/// A client that keeps up to `connections` connections open between requests.
fn keep_alive_client(connections: usize) -> Result<reqwest::Client, String> {
    reqwest::Client::builder()
        .pool_max_idle_per_host(connections)
        .build()
        .map_err(|e| e.to_string())
}

/// A client that opens a new connection for every request.
fn fresh_client() -> Result<reqwest::Client, String> {
    reqwest::Client::builder()
        .pool_max_idle_per_host(0)
        .build()
        .map_err(|e| e.to_string())
}

/// One page, read whole; an error unless it answered `status`.
async fn fetch(client: &reqwest::Client, url: &str, status: u16) -> Result<(), String> {
    let response = client
        .get(url)
        .send()
        .await
        .map_err(|e| format!("GET {url}: {e}"))?;
    let got = response.status().as_u16();
    response
        .bytes()
        .await
        .map_err(|e| format!("GET {url}: {e}"))?;
    if got != status {
        return Err(format!("GET {url} answered {got}, expected {status}"));
    }
    Ok(())
}

/// `requests` requests one after another (after a few unmeasured ones): the sorted
/// latencies and the total time.
async fn sequential(
    client: &reqwest::Client,
    url: &str,
    status: u16,
    requests: usize,
) -> Result<(Vec<Duration>, Duration), String> {
    for _ in 0..10 {
        fetch(client, url, status).await?;
    }
    let mut samples = Vec::with_capacity(requests);
    let started = Instant::now();
    for _ in 0..requests {
        let sent = Instant::now();
        fetch(client, url, status).await?;
        samples.push(sent.elapsed());
    }
    let total = started.elapsed();
    samples.sort();
    Ok((samples, total))
}

/// Requests per second from [`CONCURRENT`] keep-alive connections, each sending its next
/// request when the last one is answered, for `window`.
async fn concurrent(url: &str, window: Duration) -> Result<f64, String> {
    let started = Instant::now();
    let mut tasks = tokio::task::JoinSet::new();
    for _ in 0..CONCURRENT {
        let client = keep_alive_client(1)?;
        let url = url.to_owned();
        tasks.spawn(async move {
            let mut done = 0u64;
            while started.elapsed() < window {
                fetch(&client, &url, 200).await?;
                done += 1;
            }
            Ok::<u64, String>(done)
        });
    }
    let mut total = 0;
    while let Some(joined) = tasks.join_next().await {
        total += joined.map_err(|e| e.to_string())??;
    }
    Ok(total as f64 / started.elapsed().as_secs_f64())
}
