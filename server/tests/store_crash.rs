//! Moving records down the tiers survives SIGKILL: a child `switchyard store tier` (SQL →
//! object storage), then `switchyard store archive` (→ the sealed archive), is killed at
//! random moments, again and again, then allowed to finish. No record may be lost or held by
//! two tiers at once, every record must read back byte for byte, and `verify` must be clean.

mod common;

use std::process::Stdio;
use std::time::{Duration, SystemTime};

use switchyard_db::{ConnectOptions, Database, DatabaseUrl, migrate};
use switchyard_store::{ArchiveKey, Objects, Stats, Store, StoreConfig};

const RECORDS: usize = 30_000;
const KILLS: usize = 8;
const KEY: &str = "f00dfeedf00dfeedf00dfeedf00dfeedf00dfeedf00dfeedf00dfeedf00dfeed";

fn value(i: usize) -> Vec<u8> {
    format!("{{\"line\":{i},\"text\":\"{}\"}}", "x".repeat(i % 150)).into_bytes()
}

async fn open(dir: &std::path::Path) -> (Database, Store) {
    let db = Database::connect(
        &DatabaseUrl::sqlite(dir.join("data/switchyard.db")),
        &ConnectOptions::default(),
    )
    .await
    .unwrap();
    migrate::run(&db).await.unwrap();
    let objects = Objects::local(&dir.join("data/objects")).unwrap();
    let store = Store::new(db.clone(), objects, &StoreConfig::default())
        .with_archive_key(ArchiveKey::from_hex(KEY).unwrap());
    (db, store)
}

/// Runs `switchyard ARGS` in `dir` and SIGKILLs it after a random pause, `KILLS` times;
/// returns what `measure` read from the store after each kill.
async fn kill_repeatedly(
    dir: &std::path::Path,
    args: &[&str],
    below: &mut impl FnMut(u64) -> u64,
    measure: impl Fn(Stats) -> u64,
) -> Vec<u64> {
    let mut seen = Vec::new();
    for _ in 0..KILLS {
        let mut child = common::command(dir)
            .args(args)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        std::thread::sleep(Duration::from_millis(30 + below(400)));
        let _ = child.kill(); // SIGKILL (it may have finished already)
        child.wait().unwrap();
        let (db, store) = open(dir).await;
        seen.push(measure(store.stats().await.unwrap()));
        db.close().await;
    }
    seen
}

/// Lets `switchyard ARGS` run to the end, then checks every record is in exactly one tier
/// (the one `where_all` names), reads back byte for byte at version 1, and verify is clean.
async fn finish_and_check(
    dir: &std::path::Path,
    args: &[&str],
    where_all: impl Fn(&Stats) -> (u64, u64, u64),
) -> Stats {
    let out = common::run(dir, args);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let (db, store) = open(dir).await;
    let stats = store.stats().await.unwrap();
    assert_eq!(
        (stats.l2_records, stats.l3_records, stats.l4_records),
        where_all(&stats),
        "each record in exactly one tier"
    );
    let mut read_back = 0;
    for block in 0..3 {
        for record in store
            .scan(&format!("journal/0{block}"), 20_000)
            .await
            .unwrap()
        {
            let i: usize = record.key["journal/".len()..].parse().unwrap();
            assert_eq!(&record.value[..], value(i).as_slice(), "{}", record.key);
            assert_eq!(record.version, 1, "{}: written once", record.key);
            read_back += 1;
        }
    }
    assert_eq!(read_back, RECORDS);
    let verified = store.verify().await.unwrap();
    assert_eq!(
        (verified.checked, verified.corrupt.len()),
        (RECORDS as u64, 0)
    );
    db.close().await;
    stats
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn moving_down_the_tiers_killed_at_random_loses_and_duplicates_nothing() {
    let seed = SystemTime::now()
        .duration_since(SystemTime::UNIX_EPOCH)
        .unwrap()
        .as_nanos() as u64
        | 1;
    println!("store crash test seed {seed}");
    let mut rng = seed;
    let mut below = |n: u64| {
        rng ^= rng << 13;
        rng ^= rng >> 7;
        rng ^= rng << 17;
        rng % n
    };

    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(dir.path().join("data")).unwrap();
    std::fs::write(
        dir.path().join("switchyard.toml"),
        format!("archive_key = \"{KEY}\"\n"),
    )
    .unwrap();
    {
        let (db, store) = open(dir.path()).await;
        let keys: Vec<String> = (0..RECORDS).map(|i| format!("journal/{i:06}")).collect();
        let values: Vec<Vec<u8>> = (0..RECORDS).map(value).collect();
        for (keys, values) in keys.chunks(5_000).zip(values.chunks(5_000)) {
            let batch: Vec<(&str, &[u8])> = keys
                .iter()
                .map(String::as_str)
                .zip(values.iter().map(Vec::as_slice))
                .collect();
            store.put_batch(&batch).await.unwrap();
        }
        db.close().await;
    }

    // SQL → object storage, 500 records per segment.
    let tier = [
        "store",
        "tier",
        "--older-than-days",
        "0",
        "--segment-records",
        "500",
    ];
    let in_l3 = kill_repeatedly(dir.path(), &tier, &mut below, |s| s.l3_records).await;
    println!("records in object storage at each kill: {in_l3:?}");
    assert!(
        in_l3.iter().any(|&n| n > 0 && n < RECORDS as u64),
        "some kill must land mid-move: {in_l3:?}"
    );
    let stats = finish_and_check(dir.path(), &tier, |_| (0, RECORDS as u64, 0)).await;
    let objects = std::fs::read_dir(dir.path().join("data/objects/segments"))
        .unwrap()
        .count() as u64;
    println!(
        "{} indexed segments, {objects} objects on disk ({} left unindexed by kills)",
        stats.l3_segments,
        objects - stats.l3_segments
    );

    // Object storage → the sealed archive, 4 segments per archive object.
    let archive = [
        "store",
        "archive",
        "--older-than-days",
        "0",
        "--segments",
        "4",
    ];
    let in_l4 = kill_repeatedly(dir.path(), &archive, &mut below, |s| s.l4_records).await;
    println!("records archived at each kill: {in_l4:?}");
    assert!(
        in_l4.iter().any(|&n| n > 0 && n < RECORDS as u64),
        "some kill must land mid-archive: {in_l4:?}"
    );
    finish_and_check(dir.path(), &archive, |_| (0, 0, RECORDS as u64)).await;
}
