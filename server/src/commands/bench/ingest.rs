//! `switchyard bench ingest`: data mode over a generated 1,000,000-row CSV (id, name, email,
//! amount, day, flag; a few bad values). In memory: the CSV reader alone and the profile on the
//! same bytes (what the check costs on top of reading). Then the whole path on a server of its
//! own (this binary, SQLite, sign-in off), through its socket as the panel uses it: the file
//! streamed to `POST /api/v1/datasets/check` (staged and checked), then `POST /api/v1/datasets`
//! and `rows_written` followed until the dataset is ready in the tiered store; rows/s for each
//! phase and end to end.

use std::time::Instant;

use switchyard_datasets::read::{Event, read_rows};
use switchyard_datasets::{Format, Options, profile};

pub async fn run(quick: bool) -> Result<(), String> {
    let rows: u64 = if quick { 100_000 } else { 1_000_000 };
    let csv = generate(rows);
    println!(
        "ingest benchmark{}: {} rows, {:.1} MB of CSV in memory, one pass each, best of 3",
        if quick { " (quick)" } else { "" },
        super::thousands(rows as f64),
        csv.len() as f64 / 1e6
    );
    let options = Options {
        key: Some("id".into()),
        required: vec!["email".into()],
        ..Options::default()
    };
    let mut read_only = f64::MAX;
    let mut profiled = f64::MAX;
    let mut last = None;
    for _ in 0..3 {
        let started = Instant::now();
        let mut seen = 0u64;
        read_rows(csv.as_slice(), Format::Csv, |event| {
            if let Event::Row(_) = event {
                seen += 1;
            }
            true
        })
        .map_err(|e| e.to_string())?;
        read_only = read_only.min(started.elapsed().as_secs_f64());
        if seen != rows {
            return Err(format!("read {seen} rows of {rows}"));
        }
        let started = Instant::now();
        let p = profile(csv.as_slice(), Format::Csv, &options).map_err(|e| e.to_string())?;
        profiled = profiled.min(started.elapsed().as_secs_f64());
        last = Some(p);
    }
    let p = last.ok_or("no round ran")?;
    println!();
    println!("| pass | time | rows/s |");
    println!("|---|---|---|");
    for (pass, seconds) in [
        ("read only (CSV into rows)", read_only),
        ("profile (kinds, problems, scores)", profiled),
    ] {
        println!(
            "| {pass} | {:.0} ms | {} |",
            seconds * 1e3,
            super::thousands(rows as f64 / seconds)
        );
    }
    println!();
    println!(
        "profile / read: {:.2}x the time; found {} problems in {} rows (expected {}), \
         overall completeness {:.4}, validity {:.4}, uniqueness {:.4}",
        profiled / read_only.max(f64::MIN_POSITIVE),
        super::thousands(p.problem_count as f64),
        super::thousands(p.bad_rows as f64),
        super::thousands((rows / 1000 * 3) as f64),
        p.scores.completeness,
        p.scores.validity,
        p.scores.uniqueness
    );
    let expected = rows - p.bad_rows;
    through_a_server(csv, rows, expected).await
}

/// The check, the write and the two together, timed by the client, on a server of its own.
async fn through_a_server(csv: Vec<u8>, rows: u64, expected: u64) -> Result<(), String> {
    let server = super::child::ChildServer::start(&[], false)?;
    let client = reqwest::Client::new();
    let started = Instant::now();
    let check = client
        .post(format!(
            "{}/api/v1/datasets/check?file_name=bench.csv&key=id&required=email",
            server.base
        ))
        .header("content-type", "text/csv")
        .body(csv)
        .send()
        .await
        .map_err(|e| e.to_string())?;
    if !check.status().is_success() {
        return Err(format!(
            "check: {} {}",
            check.status(),
            check.text().await.unwrap_or_default()
        ));
    }
    let check: serde_json::Value = check.json().await.map_err(|e| e.to_string())?;
    let checked = started.elapsed().as_secs_f64();
    let written_at = Instant::now();
    let write = client
        .post(format!("{}/api/v1/datasets", server.base))
        .json(&serde_json::json!({"upload": check["upload"], "name": "bench"}))
        .send()
        .await
        .map_err(|e| e.to_string())?;
    if write.status() != reqwest::StatusCode::ACCEPTED {
        return Err(format!(
            "write: {} {}",
            write.status(),
            write.text().await.unwrap_or_default()
        ));
    }
    let id = write
        .json::<serde_json::Value>()
        .await
        .map_err(|e| e.to_string())?["id"]
        .as_str()
        .ok_or("write: no id")?
        .to_owned();
    let done = loop {
        let view: serde_json::Value = client
            .get(format!("{}/api/v1/datasets/{id}", server.base))
            .send()
            .await
            .map_err(|e| e.to_string())?
            .json()
            .await
            .map_err(|e| e.to_string())?;
        if view["status"] != "writing" {
            break view;
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    };
    let written = written_at.elapsed().as_secs_f64();
    if done["status"] != "ready" || done["rows_written"] != expected {
        return Err(format!("the dataset did not end as expected: {done}"));
    }
    let total = started.elapsed().as_secs_f64();
    println!();
    println!(
        "through a server (SQLite, its own socket): {} rows written, {} left out with problems",
        super::thousands(expected as f64),
        super::thousands((rows - expected) as f64)
    );
    println!();
    println!("| phase | time | rows/s |");
    println!("|---|---|---|");
    for (phase, seconds) in [
        ("check (upload streamed, staged, profiled)", checked),
        ("write (confirmed: rows into the store)", written),
        ("end to end", total),
    ] {
        println!(
            "| {phase} | {:.0} ms | {} |",
            seconds * 1e3,
            super::thousands(rows as f64 / seconds)
        );
    }
    Ok(())
}

/// `rows` rows; every 1,000th has a bad amount, every 1,000th (offset 500) no email, and
/// every 1,000th (offset 700) repeats the id before it.
fn generate(rows: u64) -> Vec<u8> {
    use std::fmt::Write;
    let mut out = String::with_capacity(rows as usize * 64);
    out.push_str("id,name,email,amount,day,flag\n");
    for i in 1..=rows {
        let id = if i % 1000 == 700 { i - 1 } else { i };
        let email = if i % 1000 == 500 {
            String::new()
        } else {
            format!("user{i}@example.com")
        };
        let amount = if i % 1000 == 0 {
            "n/a".to_owned()
        } else {
            format!("{}.{:02}", i % 997, i % 100)
        };
        let _ = writeln!(
            out,
            "{id},User {i},{email},{amount},2026-{:02}-{:02},{}",
            i % 12 + 1,
            i % 28 + 1,
            i % 2 == 0
        );
    }
    out.into_bytes()
}
