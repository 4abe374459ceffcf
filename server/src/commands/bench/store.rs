//! `switchyard bench store`: the tiered store's L1 hit latency, L2 read latency, batched write
//! throughput, and what checksums cost — each path measured with and without its hash work in
//! the same run, on a scratch SQLite database.

use std::time::{Duration, Instant};

use switchyard_db::{ConnectOptions, Database, DatabaseUrl, migrate};
use switchyard_store::{Objects, Store, StoreConfig, l2, record};

use super::{percentile, thousands};

/// Bytes per value: about one event or log line.
const VALUE_BYTES: usize = 200;
const BATCH: usize = 1_000;

fn micros(d: Duration) -> String {
    format!("{:.2} µs", d.as_secs_f64() * 1e6)
}

fn value(i: usize) -> Vec<u8> {
    let mut v = format!("{{\"seq\":{i},\"msg\":\"").into_bytes();
    v.resize(VALUE_BYTES - 2, b'x');
    v.extend_from_slice(b"\"}");
    v
}

pub async fn run(quick: bool) -> Result<(), String> {
    let records = if quick { 20_000 } else { 100_000 };
    let reads = if quick { 2_000 } else { 10_000 };
    println!(
        "store benchmark{}: {records} records of {VALUE_BYTES} B written in batches of {BATCH}; \
         {reads} timed reads per tier (SQLite, WAL, synchronous=normal)",
        if quick { " (quick)" } else { "" }
    );
    let dir = tempfile::tempdir().map_err(|e| format!("cannot create a scratch dir: {e}"))?;
    let db = Database::connect(
        &DatabaseUrl::sqlite(dir.path().join("bench.db")),
        &ConnectOptions::default(),
    )
    .await
    .map_err(|e| e.to_string())?;
    migrate::run(&db).await.map_err(|e| e.to_string())?;
    let objects = Objects::local(&dir.path().join("objects")).map_err(|e| e.to_string())?;
    let result = measure(&db, objects, records, reads).await;
    db.close().await;
    result
}

async fn measure(
    db: &Database,
    objects: Objects,
    records: usize,
    reads: usize,
) -> Result<(), String> {
    let err = |e: &dyn std::fmt::Display| e.to_string();
    let store = Store::new(db.clone(), objects, &StoreConfig::default());
    let values: Vec<Vec<u8>> = (0..records).map(value).collect();

    // Batched writes: through the store (hash + SQL + L1); then the bare SQL write with the
    // hashes computed, and with all-zero hashes (the baseline), each on its own key range.
    let keys: Vec<String> = (0..records).map(|i| format!("bench/a/{i:08}")).collect();
    let started = Instant::now();
    for (keys, values) in keys.chunks(BATCH).zip(values.chunks(BATCH)) {
        let batch: Vec<(&str, &[u8])> = keys
            .iter()
            .map(String::as_str)
            .zip(values.iter().map(Vec::as_slice))
            .collect();
        store.put_batch(&batch).await.map_err(|e| err(&e))?;
    }
    let through_store = started.elapsed();
    // Four blocks: hashed, bare, hashed, bare, each half the records under a key prefix
    // that sorts after the last one, so every block appends at the end of the table as a
    // real writer would (interleaving the two in one key range made one of them pay for
    // page splits in the middle, which swamped the hashing).
    let half = records / 2;
    let block_key = |block: usize, i: usize| format!("bench/w{block}/{i:08}");
    let (mut with, mut without) = (Duration::ZERO, Duration::ZERO);
    for block in 0..4 {
        let hashed = block % 2 == 0;
        let first = (block / 2) * half;
        let keys: Vec<String> = (first..first + half).map(|i| block_key(block, i)).collect();
        let started = Instant::now();
        for (keys, values) in keys
            .chunks(BATCH)
            .zip(values[first..first + half].chunks(BATCH))
        {
            let batch: Vec<l2::Write<'_>> = keys
                .iter()
                .zip(values)
                .map(|(k, v)| {
                    let hash = if hashed { record::hash(v) } else { [0; 32] };
                    (k.as_str(), v.as_slice(), hash)
                })
                .collect();
            l2::upsert(db, &batch, 0).await.map_err(|e| err(&e))?;
        }
        if hashed {
            with += started.elapsed();
        } else {
            without += started.elapsed();
        }
    }
    // The baseline's rows have no valid hash: gone before anything reads them.
    if let Database::Sqlite(pool) = db {
        for block in [1, 3] {
            sqlx::query("DELETE FROM store_records WHERE key >= $1 AND key < $2")
                .bind(format!("bench/w{block}/"))
                .bind(format!("bench/w{block}0"))
                .execute(pool)
                .await
                .map_err(|e| err(&e))?;
        }
    }

    // L1 hits: the written keys are all in memory.
    let mut l1 = Vec::with_capacity(reads);
    for i in 0..reads {
        let key = &keys[(i * 7919) % records];
        let t = Instant::now();
        let hit = store.get(key).await.map_err(|e| err(&e))?;
        l1.push(t.elapsed());
        if hit.is_none() {
            return Err(format!("{key} missing from the store"));
        }
    }
    l1.sort();

    // L2 reads: the store's path (read + hash check), and the bare read.
    store.clear_l1();
    let mut checked = Vec::with_capacity(reads);
    let mut bare = Vec::with_capacity(reads);
    for i in 0..reads {
        let key = &keys[(i * 104_729) % records];
        let t = Instant::now();
        let row = l2::read(db, key).await.map_err(|e| err(&e))?;
        let read = t.elapsed();
        let t = Instant::now();
        let intact = row.as_ref().is_some_and(|r| r.is_intact());
        checked.push(read + t.elapsed());
        bare.push(read);
        if !intact {
            return Err(format!("{key} did not read back intact"));
        }
    }
    checked.sort();
    bare.sort();

    // L3: the range written through bare SQL with hashes (stamped at time 0) moves to object storage in
    // segments of 20,000; then reads through the store with L1 empty. The first read of a
    // segment fetches, checks and decodes it; later ones find it decoded in memory.
    let started = Instant::now();
    let moved = store
        .tier_down(1, usize::MAX, 20_000)
        .await
        .map_err(|e| err(&e))?;
    let tiering = started.elapsed();
    // (The stride is coprime with the record count: every read is a different key, so none
    // is an L1 hit.)
    store.clear_l1();
    let mut cold = Vec::new();
    let mut warm = Vec::with_capacity(reads);
    let mut seen = std::collections::HashSet::new();
    for i in 0..reads {
        let n = (i * 7_919) % records;
        let key = block_key(if n < half { 0 } else { 2 }, n);
        let t = Instant::now();
        let found = store.get(&key).await.map_err(|e| err(&e))?;
        let took = t.elapsed();
        if found.is_none() {
            return Err(format!("{key} missing from L3"));
        }
        if seen.insert(n / 20_000) {
            cold.push(took);
        } else {
            warm.push(took);
        }
    }
    cold.sort();
    warm.sort();

    // Hashing alone, for scale.
    let started = Instant::now();
    let mut sink = 0u8;
    for v in &values {
        sink ^= record::hash(v)[0];
    }
    let hashing = started.elapsed();
    std::hint::black_box(sink);

    let per_s = |d: Duration| records as f64 / d.as_secs_f64();
    let latency = |what: &str, sorted: &[Duration]| {
        let (p50, p99) = (percentile(sorted, 50.0), percentile(sorted, 99.0));
        println!("{what:<44} {:>14} {:>12}", micros(p50), micros(p99));
    };
    let rate = |what: &str, per_s: f64| println!("{what:<44} {:>14}", thousands(per_s));
    println!("{:<44} {:>14} {:>12}", "what", "p50", "p99");
    latency("L1 hit (get, in memory)", &l1);
    latency("L2 read + BLAKE3 check", &checked);
    latency("L2 read, no check (baseline)", &bare);
    latency("L3 read, segment decoded in memory", &warm);
    latency("L3 read, first in its segment (fetch+check)", &cold);
    println!(
        "{:<44} {:>14}   ({} records in {} segments, {:.1} s)",
        "L2 → L3 move, records/s",
        thousands(moved.records as f64 / tiering.as_secs_f64()),
        moved.records,
        moved.segments,
        tiering.as_secs_f64()
    );
    rate(
        "batched writes through the store, records/s",
        per_s(through_store),
    );
    rate("batched SQL writes with BLAKE3, records/s", per_s(with));
    rate("batched SQL writes, no hash (baseline)", per_s(without));
    println!(
        "{:<44} {:>13.1}%   (hashing alone: {:.1} ns per record)",
        "checksum cost on batched writes",
        (with.as_secs_f64() / without.as_secs_f64() - 1.0) * 100.0,
        hashing.as_secs_f64() * 1e9 / records as f64
    );
    Ok(())
}
