//! `switchyard store verify | stats | maintain | tier | archive | restore`: the tiered store
//! on the configured database and object store.

use clap::Subcommand;
use switchyard_store::{Policy, Store};

use crate::config::Config;

#[derive(Debug, Subcommand)]
pub enum StoreCommand {
    /// Check every stored copy against its hash and repair what can be repaired; exits 1 if
    /// damage is left.
    Verify,
    /// Records, bytes and ages per tier.
    Stats,
    /// Run the configured policy once now (what `serve` does every store_tier_interval_ms):
    /// retention deletes, moves by age and size, removal of emptied objects.
    Maintain,
    /// Bring archived records whose key starts with PREFIX back into SQL (L2).
    Restore { prefix: String },
    /// Seal object-storage segments older than N days into the archive (L4) now; needs
    /// archive_key.
    Archive {
        /// Archive segments created at least this many days ago (0: all of them).
        #[arg(long, default_value_t = 365)]
        older_than_days: u32,
        /// Segments compacted into each archive object.
        #[arg(long, default_value_t = 64, value_parser = clap::value_parser!(u32).range(1..=10_000))]
        segments: u32,
    },
    /// Move records not written for a while from SQL (L2) to object storage (L3) now.
    Tier {
        /// Move what was last written at least this many days ago (0: everything).
        #[arg(long, default_value_t = 7)]
        older_than_days: u32,
        /// Records per object-storage segment.
        #[arg(long, default_value_t = 20_000, value_parser = clap::value_parser!(u32).range(1..=1_000_000))]
        segment_records: u32,
    },
}

pub async fn run(config: &Config, command: StoreCommand) -> Result<(), String> {
    let (db, created) = crate::startup::prepare(config).await?;
    created.keep();
    let objects = match config.store.open_objects().await {
        Ok(objects) => objects,
        Err(e) => {
            db.close().await;
            return Err(e);
        }
    };
    let store = config.store.store(db.clone(), objects);
    let result = match command {
        StoreCommand::Verify => verify(&store).await,
        StoreCommand::Stats => stats(&store).await,
        StoreCommand::Maintain => maintain(&store, &config.store.policy).await,
        StoreCommand::Restore { prefix } => restore(&store, &prefix).await,
        StoreCommand::Archive {
            older_than_days,
            segments,
        } => archive(&store, older_than_days, segments as usize).await,
        StoreCommand::Tier {
            older_than_days,
            segment_records,
        } => tier(&store, older_than_days, segment_records as usize).await,
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
        "l4",
        stats.l4_records,
        stats.l4_bytes,
        &age(stats.l4_oldest_ms),
        &format!("{} archives", stats.l4_archives),
    );
    row(
        "l3",
        stats.l3_records,
        stats.l3_bytes,
        &age(stats.l3_oldest_ms),
        &format!("{} segments", stats.l3_segments),
    );
    row(
        "l2",
        stats.l2_records,
        stats.l2_bytes,
        &age(stats.l2_oldest_ms),
        &age(stats.l2_newest_ms),
    );
    Ok(())
}

async fn tier(store: &Store, older_than_days: u32, per_segment: usize) -> Result<(), String> {
    let cutoff = chrono::Utc::now() - chrono::Duration::days(i64::from(older_than_days));
    let moved = store
        .tier_down(cutoff.timestamp_millis(), usize::MAX, per_segment)
        .await
        .map_err(|e| e.to_string())?;
    println!(
        "moved {} records written before {} from l2 to l3 in {} segments",
        moved.records,
        cutoff.to_rfc3339(),
        moved.segments
    );
    Ok(())
}

async fn restore(store: &Store, prefix: &str) -> Result<(), String> {
    let restored = store.restore(prefix).await.map_err(|e| e.to_string())?;
    println!("restored {restored} records under '{prefix}' from the archive to l2");
    Ok(())
}

async fn archive(store: &Store, older_than_days: u32, per_archive: usize) -> Result<(), String> {
    let cutoff = chrono::Utc::now() - chrono::Duration::days(i64::from(older_than_days));
    let (mut records, mut segments, mut archives) = (0, 0, 0);
    loop {
        let moved = store
            .archive(cutoff.timestamp_millis(), per_archive)
            .await
            .map_err(|e| e.to_string())?;
        if moved.segments == 0 {
            break;
        }
        records += moved.records;
        segments += moved.segments;
        archives += 1;
    }
    println!(
        "archived {records} records from {segments} segments created before {} into {archives} archives",
        cutoff.to_rfc3339()
    );
    Ok(())
}

async fn maintain(store: &Store, policy: &Policy) -> Result<(), String> {
    let done = store.maintain(policy).await.map_err(|e| e.to_string())?;
    println!(
        "moved {} records from l2 to l3 and archived {} from l3 to l4; \
         retention deleted {} from l2, {} from l3, {} from l4; removed {} emptied objects",
        done.tiered.records,
        done.archived.records,
        done.expired[0],
        done.expired[1],
        done.expired[2],
        done.objects_removed
    );
    Ok(())
}
