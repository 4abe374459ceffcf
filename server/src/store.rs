//! `switchyard store verify | stats`: the tiered store on the configured database.

use switchyard_store::{Store, StoreConfig};

use crate::cli::StoreCommand;
use crate::config::Config;

pub async fn run(config: &Config, command: StoreCommand) -> Result<(), String> {
    let (db, created) = crate::startup::prepare(config).await?;
    created.keep();
    let store = Store::new(db.clone(), &StoreConfig::default());
    let result = match command {
        StoreCommand::Verify => verify(&store).await,
        StoreCommand::Stats => stats(&store).await,
    };
    db.close().await;
    result
}

async fn verify(store: &Store) -> Result<(), String> {
    let found = store.verify().await.map_err(|e| e.to_string())?;
    println!(
        "checked {} records in l2: {} corrupt, {} repaired",
        found.checked,
        found.corrupt.len(),
        found.repaired.len()
    );
    let left: Vec<&String> = found
        .corrupt
        .iter()
        .filter(|k| !found.repaired.contains(k))
        .collect();
    for key in &left {
        println!("corrupt, no intact copy: {key}");
    }
    if left.is_empty() {
        Ok(())
    } else {
        let n = left.len();
        let s = if n == 1 { "" } else { "s" };
        Err(format!("{n} corrupt record{s} could not be repaired"))
    }
}

async fn stats(store: &Store) -> Result<(), String> {
    let stats = store.stats().await.map_err(|e| e.to_string())?;
    let age = |ms: Option<i64>| {
        ms.and_then(chrono::DateTime::from_timestamp_millis)
            .map_or("–".to_owned(), |at| at.to_rfc3339())
    };
    let row = |tier: &str, records: u64, bytes: u64, oldest: &str, newest: &str| {
        println!("{tier:<5} {records:>10} {bytes:>14}  {oldest:<32} {newest}");
    };
    println!(
        "{:<5} {:>10} {:>14}  {:<32} newest write",
        "tier", "records", "bytes", "oldest write"
    );
    row("l1", stats.l1_records, stats.l1_bytes, "–", "–");
    row(
        "l2",
        stats.l2_records,
        stats.l2_bytes,
        &age(stats.l2_oldest_ms),
        &age(stats.l2_newest_ms),
    );
    Ok(())
}
