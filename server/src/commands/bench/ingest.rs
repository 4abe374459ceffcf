//! `switchyard bench ingest`: data mode's pass over a generated 1,000,000-row CSV (id, name,
//! email, amount, day, flag; a few bad values), read as a stream and profiled: rows/s, beside
//! the CSV reader alone on the same bytes (what the profile costs on top of reading).
//! Writing the rows into the store is not part of it yet: data mode's confirm step is still to
//! come, and this figure is the pass that precedes it.

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
