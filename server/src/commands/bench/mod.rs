//! `switchyard bench …`: measurements with printed figures, each beside a baseline taken in
//! the same run.

pub mod chat;
pub mod child;
pub mod ingest;
pub mod live;
pub mod llm;
pub mod orchestrator;
pub mod pages;
pub mod search;
pub mod store;

use std::path::PathBuf;
use std::time::Duration;

use clap::Subcommand;

#[derive(Debug, Subcommand)]
pub enum BenchCommand {
    /// Engine throughput and enqueue→start latency on SQLite and PostgreSQL, beside a bare
    /// claim-and-complete loop on the same database.
    Orchestrator {
        /// About ten seconds instead of the full run.
        #[arg(long)]
        quick: bool,
        /// PostgreSQL to create a scratch database on.
        /// Default: postgres://postgres@127.0.0.1:5432/test
        #[arg(long, value_name = "URL")]
        postgres: Option<String>,
    },
    /// Pages over real sockets: each from one keep-alive client (p50, p99, req/s) beside a
    /// fresh connection per request, and `/` from ten keep-alive clients beside `/login`.
    Pages {
        /// About ten seconds instead of the full run.
        #[arg(long)]
        quick: bool,
        /// Measure the server at URL (e.g. http://127.0.0.1:3000) instead of starting one.
        #[arg(long, value_name = "URL")]
        url: Option<String>,
    },
    /// The live WebSocket under load: 1, 100 and 1,000 clients following busy runs; events
    /// published per second and commit → client latency p50 / p99 beside one client.
    Live {
        /// A shorter run (fewer, smaller runs per round).
        #[arg(long)]
        quick: bool,
    },
    /// The store's L1 hit latency, L2 read latency, batched write throughput and the cost of
    /// checksums (with and without, in the same run), on SQLite.
    Store {
        /// About ten seconds instead of the full run.
        #[arg(long)]
        quick: bool,
    },
    /// The orchestrator panel's chat path (send_chat, then the answer over the live socket)
    /// beside `/v1/chat/completions` on the same server and model: time to first token and
    /// decode tokens/s, measured by the client.
    Chat {
        /// The GGUF model to talk to (e.g. one written by `switchyard model write-test`).
        #[arg(long, value_name = "FILE")]
        model: PathBuf,
        /// Three rounds per path instead of ten, shorter prompt and answers.
        #[arg(long)]
        quick: bool,
    },
    /// The search index: 100,000 generated documents indexed, then p50 / p99 of one-word,
    /// two-word and prefix queries, on SQLite and (when it answers) PostgreSQL.
    Search {
        /// 20,000 documents and 200 queries per shape.
        #[arg(long)]
        quick: bool,
        /// PostgreSQL to create a scratch database on.
        /// Default: postgres://postgres@127.0.0.1:5432/test
        #[arg(long, value_name = "URL")]
        postgres: Option<String>,
    },
    /// Data mode over a generated 1,000,000-row CSV: read and profiled in memory, then checked
    /// and written through a server of its own, in rows/s.
    Ingest {
        /// 100,000 rows instead of 1,000,000.
        #[arg(long)]
        quick: bool,
    },
    /// Prompt tok/s, decode tok/s and time to first token at 1 and 4 concurrent requests,
    /// through the engine and through the HTTP endpoint.
    Llm {
        /// The GGUF model to measure.
        #[arg(long, value_name = "FILE")]
        model: PathBuf,
        /// A short run (shorter prompt and answers, one round each).
        #[arg(long)]
        quick: bool,
        /// First write a random-weight model of Qwen2.5-0.5B's shape (Q4_K_M) to FILE.
        #[arg(long)]
        write_model: bool,
        /// What activations, attention and the KV cache are computed in: auto (f32 on the
        /// CPU), f32, bf16 or f16.
        #[arg(long, default_value = "auto", value_parser = parse_dtype)]
        dtype: switchyard_inference::ComputeDType,
    },
}

/// Reads a streamed `/v1/chat/completions` answer (server-sent events) to its end, handing
/// each JSON chunk to `each` as it arrives (`[DONE]` and other lines are skipped).
pub async fn read_sse(
    response: &mut reqwest::Response,
    mut each: impl FnMut(&serde_json::Value),
) -> Result<(), String> {
    let mut buffer = String::new();
    while let Some(bytes) = response.chunk().await.map_err(|e| e.to_string())? {
        buffer.push_str(&String::from_utf8_lossy(&bytes));
        while let Some(end) = buffer.find("\n\n") {
            let event: String = buffer.drain(..end + 2).collect();
            let Some(data) = event.trim().strip_prefix("data: ") else {
                continue;
            };
            if data == "[DONE]" {
                continue;
            }
            each(&serde_json::from_str(data).map_err(|e| e.to_string())?);
        }
    }
    Ok(())
}

/// Whether a streamed chunk carries text.
pub fn has_text(chunk: &serde_json::Value) -> bool {
    chunk["choices"][0]["delta"]["content"]
        .as_str()
        .is_some_and(|c| !c.is_empty())
}

/// `p` in 0..=100 of sorted samples (durations, rates); the default for none.
pub fn percentile<T: Copy + Default>(sorted: &[T], p: f64) -> T {
    if sorted.is_empty() {
        return T::default();
    }
    let rank = ((p / 100.0) * (sorted.len() - 1) as f64).round() as usize;
    sorted[rank.min(sorted.len() - 1)]
}

/// `1234567.8` → `1,234,568`.
pub fn thousands(value: f64) -> String {
    let digits = format!("{:.0}", value.max(0.0));
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

pub fn millis(d: Duration) -> String {
    format!("{:.2} ms", d.as_secs_f64() * 1000.0)
}

/// `--dtype`'s parser: the dtype or a line naming the accepted values.
fn parse_dtype(text: &str) -> Result<switchyard_inference::ComputeDType, String> {
    switchyard_inference::ComputeDType::parse(text).ok_or_else(|| {
        format!(
            "{text:?} is not a dtype ({})",
            switchyard_inference::ComputeDType::EXPECTED
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentiles_and_numbers_read_right() {
        let samples: Vec<Duration> = (1..=100).map(Duration::from_millis).collect();
        assert_eq!(percentile(&samples, 50.0), Duration::from_millis(51));
        assert_eq!(percentile(&samples, 99.0), Duration::from_millis(99));
        assert_eq!(percentile::<Duration>(&[], 50.0), Duration::ZERO);
        assert_eq!(thousands(1_234_567.8), "1,234,568");
        assert_eq!(thousands(999.0), "999");
        assert_eq!(millis(Duration::from_micros(1500)), "1.50 ms");
    }
}
