//! `switchyard bench search`: the search index (query mode, the top bar) over 100,000
//! documents of generated text (words drawn from a skewed vocabulary, as in real text) on a
//! scratch SQLite database, and on PostgreSQL when one answers: the time to index them, then
//! p50 / p99 of one-word, two-word and prefix queries (the top bar asks with the last word
//! unfinished) with words drawn evenly from the vocabulary, and apart, the worst case: one of
//! the commonest words. Each through the same function the API calls.

use std::time::{Duration, Instant};

use switchyard_db::{ConnectOptions, Database, DatabaseUrl, migrate};
use switchyard_service::query::index::{self, Document};

use super::{percentile, thousands};

/// Words the generated text draws from: common ones often, rare ones seldom.
const VOCABULARY: usize = 5_000;
const WORDS_PER_DOCUMENT: usize = 60;

/// A deterministic word for `n` (`w0` … `w4999` spelled as letters, so they stem as words).
fn word(n: usize) -> String {
    let mut n = n;
    let mut out = String::new();
    loop {
        out.push((b'a' + (n % 26) as u8) as char);
        n /= 26;
        if n == 0 {
            break;
        }
    }
    format!("{out}x{}", out.len())
}

/// A small, fast generator (xorshift), so runs are comparable.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    /// Zipf-like: small numbers far more often than large ones.
    fn skewed(&mut self, below: usize) -> usize {
        let u = (self.next() % 1_000_000) as f64 / 1_000_000.0;
        ((below as f64).powf(u) as usize)
            .saturating_sub(1)
            .min(below - 1)
    }
}

fn documents(count: usize) -> Vec<Document> {
    let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
    (0..count)
        .map(|i| {
            let body: Vec<String> = (0..WORDS_PER_DOCUMENT)
                .map(|_| word(rng.skewed(VOCABULARY)))
                .collect();
            Document {
                key: format!("bench:{i}"),
                kind: "log",
                project: if i % 10 == 0 { "other" } else { "default" }.to_owned(),
                title: format!("agent{} · info", i % 50),
                body: body.join(" "),
                href: "/logs".into(),
            }
        })
        .collect()
}

pub async fn run(quick: bool, postgres: Option<String>) -> Result<(), String> {
    let count = if quick { 20_000 } else { 100_000 };
    let queries = if quick { 200 } else { 1_000 };
    println!(
        "search benchmark{}: {} documents of {WORDS_PER_DOCUMENT} words (vocabulary {VOCABULARY}, \
         skewed), {queries} timed queries of each shape, hits cut at 20",
        if quick { " (quick)" } else { "" },
        thousands(count as f64)
    );
    let dir = tempfile::tempdir().map_err(|e| e.to_string())?;
    let sqlite = Database::connect(
        &DatabaseUrl::sqlite(dir.path().join("bench.db")),
        &ConnectOptions::default(),
    )
    .await
    .map_err(|e| e.to_string())?;
    migrate::run(&sqlite).await.map_err(|e| e.to_string())?;
    measure("SQLite (FTS5, bm25)", &sqlite, count, queries).await?;
    sqlite.close().await;

    let admin = postgres.unwrap_or_else(|| "postgres://postgres@127.0.0.1:5432/test".into());
    match super::orchestrator::ScratchPostgres::create(&admin).await {
        Ok(scratch) => {
            let result = async {
                let url = DatabaseUrl::parse(&scratch.url).map_err(|e| e.to_string())?;
                let db = Database::connect(&url, &ConnectOptions::default())
                    .await
                    .map_err(|e| e.to_string())?;
                migrate::run(&db).await.map_err(|e| e.to_string())?;
                let measured =
                    measure("PostgreSQL (tsvector, ts_rank_cd)", &db, count, queries).await;
                db.close().await;
                measured
            }
            .await;
            scratch.drop_database().await;
            result?;
        }
        Err(e) => println!("\nPostgreSQL not measured: {e}"),
    }
    Ok(())
}

async fn measure(label: &str, db: &Database, count: usize, queries: usize) -> Result<(), String> {
    let docs = documents(count);
    let started = Instant::now();
    for batch in docs.chunks(1_000) {
        index::put(db, batch).await.map_err(|e| e.to_string())?;
    }
    let indexed = started.elapsed();
    println!(
        "\n{label}: indexed {} documents in {:.1} s ({} documents/s)",
        thousands(count as f64),
        indexed.as_secs_f64(),
        thousands(count as f64 / indexed.as_secs_f64())
    );
    let mut rng = Rng(42);
    let projects = vec!["default".to_owned()];
    println!("\n| query | p50 | p99 | mean hits |");
    println!("|---|---|---|---|");
    // Words drawn evenly from the vocabulary, as people search for particular things; then
    // the worst case apart: one of the 20 commonest words, in most documents.
    for shape in [
        "one word",
        "two words",
        "a word and a two-letter prefix",
        "one of the 20 commonest words",
    ] {
        let mut times = Vec::with_capacity(queries);
        let mut hits = 0usize;
        for _ in 0..queries {
            let a = word((rng.next() % VOCABULARY as u64) as usize);
            let b = word((rng.next() % VOCABULARY as u64) as usize);
            let words = match shape {
                "one word" => vec![a],
                "two words" => vec![a, b],
                "a word and a two-letter prefix" => {
                    let prefix: String = b.chars().take(2).collect();
                    vec![a, prefix]
                }
                _ => vec![word((rng.next() % 20) as usize)],
            };
            let started = Instant::now();
            let found = index::find(db, &words, Some(&projects), 20)
                .await
                .map_err(|e| e.to_string())?;
            times.push(started.elapsed());
            hits += found.len();
        }
        times.sort();
        println!(
            "| {shape} | {} | {} | {:.1} |",
            ms(percentile(&times, 50.0)),
            ms(percentile(&times, 99.0)),
            hits as f64 / queries as f64
        );
    }
    Ok(())
}

fn ms(d: Duration) -> String {
    format!("{:.2} ms", d.as_secs_f64() * 1e3)
}
