//! `switchyard store verify | stats` on a real SQLite data directory.

mod common;

use common::run;
use switchyard_db::{ConnectOptions, Database, DatabaseUrl, migrate};
use switchyard_store::{Objects, Store, StoreConfig};

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn verify_reports_damage_in_one_line_and_stats_count_it() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("data/switchyard.db");
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    let db = Database::connect(&DatabaseUrl::sqlite(&path), &ConnectOptions::default())
        .await
        .unwrap();
    migrate::run(&db).await.unwrap();
    let objects = Objects::local(&dir.path().join("data/objects")).unwrap();
    let store = Store::new(db.clone(), objects, &StoreConfig::default());
    store
        .put_batch(&[("logs/1", b"one"), ("logs/2", b"two"), ("logs/3", b"three")])
        .await
        .unwrap();

    let clean = run(dir.path(), &["store", "verify"]);
    assert!(clean.status.success(), "{}", text(&clean.stderr));
    assert!(
        text(&clean.stdout).contains("checked 3 records in l2: 0 corrupt, 0 repaired"),
        "{}",
        text(&clean.stdout)
    );

    let Database::Sqlite(pool) = &db else {
        unreachable!()
    };
    sqlx::query("UPDATE store_records SET value = x'74776f21' WHERE key = 'logs/2'")
        .execute(pool)
        .await
        .unwrap();
    db.close().await;

    let damaged = run(dir.path(), &["store", "verify"]);
    assert_eq!(damaged.status.code(), Some(1));
    let out = text(&damaged.stdout);
    assert!(out.contains("1 corrupt, 0 repaired"), "{out}");
    assert!(out.contains("corrupt, no intact copy: logs/2"), "{out}");
    let err = text(&damaged.stderr);
    assert_eq!(
        err.lines()
            .filter(|l| l.starts_with("switchyard: error:"))
            .count(),
        1,
        "{err}"
    );
    assert!(
        err.contains("1 corrupt record could not be repaired"),
        "{err}"
    );

    let stats = run(dir.path(), &["store", "stats"]);
    assert!(stats.status.success(), "{}", text(&stats.stderr));
    let l2 = text(&stats.stdout)
        .lines()
        .find(|l| l.starts_with("l2"))
        .map(str::to_owned)
        .unwrap();
    let columns: Vec<&str> = l2.split_whitespace().collect();
    assert_eq!(&columns[1..3], ["3", "12"], "{l2}");

    // Everything to object storage, then the counts move with it.
    let tiered = run(dir.path(), &["store", "tier", "--older-than-days", "0"]);
    assert!(tiered.status.success(), "{}", text(&tiered.stderr));
    assert!(
        text(&tiered.stdout).starts_with("moved 2 records"),
        "{}",
        text(&tiered.stdout)
    );
    let stats = text(&run(dir.path(), &["store", "stats"]).stdout);
    let l3 = stats.lines().find(|l| l.starts_with("l3")).unwrap();
    assert_eq!(l3.split_whitespace().nth(1), Some("2"), "{stats}");
}

/// The store of the server running in `dir`, opened beside it on the same SQLite file (WAL
/// lets both in) and object directory.
async fn beside(dir: &std::path::Path) -> (Database, Store) {
    let db = Database::connect(
        &DatabaseUrl::sqlite(dir.join("data/switchyard.db")),
        &ConnectOptions::default(),
    )
    .await
    .unwrap();
    let objects = Objects::local(&dir.join("data/objects")).unwrap();
    let store = Store::new(db.clone(), objects, &StoreConfig::default());
    (db, store)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_running_server_moves_old_records_to_object_storage() {
    let dir = tempfile::tempdir().unwrap();
    let server = common::Server::start(
        dir.path(),
        &[
            "--store-l2-max-age-s",
            "1",
            "--store-tier-interval-ms",
            "200",
        ],
    );
    let (db, store) = beside(dir.path()).await;
    let values: Vec<(String, Vec<u8>)> = (0..300)
        .map(|i| (format!("metrics/{i:03}"), format!("point {i}").into_bytes()))
        .collect();
    let batch: Vec<(&str, &[u8])> = values
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_slice()))
        .collect();
    store.put_batch(&batch).await.unwrap();

    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    loop {
        let stats = store.stats().await.unwrap();
        if stats.l3_records == 300 && stats.l2_records == 0 {
            break;
        }
        assert!(std::time::Instant::now() < deadline, "not moved: {stats:?}");
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    store.clear_l1();
    for (key, value) in &values {
        assert_eq!(
            &store.get(key).await.unwrap().unwrap().value[..],
            value.as_slice()
        );
    }
    let (status, _) = server.terminate();
    assert!(status.success());
    db.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_running_server_archives_what_has_aged_in_object_storage() {
    const KEY: &str = "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff";
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("switchyard.toml"),
        format!("archive_key = \"{KEY}\"\n"),
    )
    .unwrap();
    let server = common::Server::start(
        dir.path(),
        &[
            "--store-l2-max-age-s",
            "1",
            "--store-archive-after-s",
            "1",
            "--store-tier-interval-ms",
            "200",
        ],
    );
    let (db, store) = beside(dir.path()).await;
    let store = store.with_archive_key(switchyard_store::ArchiveKey::from_hex(KEY).unwrap());
    let values: Vec<(String, Vec<u8>)> = (0..200)
        .map(|i| (format!("journal/{i:03}"), format!("entry {i}").into_bytes()))
        .collect();
    let batch: Vec<(&str, &[u8])> = values
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_slice()))
        .collect();
    store.put_batch(&batch).await.unwrap();

    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    loop {
        let stats = store.stats().await.unwrap();
        if stats.l4_records == 200 {
            assert_eq!((stats.l2_records, stats.l3_records), (0, 0));
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "not archived: {stats:?}"
        );
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    store.clear_l1();
    for (key, value) in &values {
        assert_eq!(
            &store.get(key).await.unwrap().unwrap().value[..],
            value.as_slice()
        );
    }
    let (status, _) = server.terminate();
    assert!(status.success());

    // Restored on request, through the CLI (the key comes from the same config file).
    let out = run(dir.path(), &["store", "restore", "journal/01"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(
        text(&out.stdout).starts_with("restored 10 records"),
        "{}",
        text(&out.stdout)
    );
    db.close().await;
}
