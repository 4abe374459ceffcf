//! The tiering policy: moves by size, archiving by size, retention deletes in each tier, and
//! the objects they empty removed — on SQLite and PostgreSQL.

use std::path::Path;
use std::time::Duration;

use switchyard_db::Database;
use switchyard_db::testing::{self, TempPostgres};
use switchyard_store::{ArchiveKey, Objects, Policy, Store, StoreConfig};

fn files(dir: &Path) -> usize {
    std::fs::read_dir(dir).map_or(0, |entries| entries.count())
}

async fn put(store: &Store, prefix: &str, n: usize) {
    let batch: Vec<(String, Vec<u8>)> = (0..n)
        .map(|i| (format!("{prefix}{i:04}"), vec![b'x'; 100]))
        .collect();
    let refs: Vec<(&str, &[u8])> = batch
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_slice()))
        .collect();
    store.put_batch(&refs).await.unwrap();
}

/// Far in the future: nothing moves or expires by age unless a test says so.
const NEVER: Duration = Duration::from_secs(100 * 365 * 24 * 3_600);

async fn exercise(db: Database, objects: &Path) {
    let key = ArchiveKey::from_hex(&"3c".repeat(32)).unwrap();
    let store = Store::new(
        db,
        Objects::local(objects).unwrap(),
        &StoreConfig::default(),
    )
    .with_archive_key(key);
    let keep_all = Policy {
        l2_max_age: NEVER,
        ..Policy::default()
    };

    // Size: L2 over its budget sends its oldest records down, and only those.
    put(&store, "old/", 1_000).await;
    tokio::time::sleep(Duration::from_millis(20)).await;
    put(&store, "new/", 1_000).await;
    let done = store
        .maintain(&Policy {
            l2_max_bytes: Some(100_000),
            ..keep_all.clone()
        })
        .await
        .unwrap();
    assert_eq!(done.tiered.records, 1_000);
    let stats = store.stats().await.unwrap();
    assert_eq!((stats.l2_records, stats.l2_bytes), (1_000, 100_000));
    assert_eq!(stats.l3_records, 1_000);
    assert_eq!(store.scan("new/", 2_000).await.unwrap().len(), 1_000);
    assert_eq!(
        store.scan("old/", 2_000).await.unwrap().len(),
        1_000,
        "still readable from L3"
    );
    assert!(files(&objects.join("segments")) >= 1);

    // Size: L3 over its budget seals its oldest segments into the archive.
    let done = store
        .maintain(&Policy {
            l3_max_bytes: Some(0),
            ..keep_all.clone()
        })
        .await
        .unwrap();
    assert_eq!(done.archived.records, 1_000);
    let stats = store.stats().await.unwrap();
    assert_eq!((stats.l3_records, stats.l4_records), (0, 1_000));
    assert_eq!(files(&objects.join("segments")), 0);
    assert_eq!(files(&objects.join("archive")), 1);

    // Age: with archiving on, what has been in L3 long enough goes to L4 as well.
    store.tier_down(i64::MAX, 10, 10).await.unwrap();
    tokio::time::sleep(Duration::from_millis(5)).await;
    let done = store
        .maintain(&Policy {
            archive_after: Some(Duration::from_millis(1)),
            ..keep_all.clone()
        })
        .await
        .unwrap();
    assert_eq!((done.archived.records, done.archived.segments), (10, 1));

    // Retention in L4: everything written before the cut-off is deleted, and the archive
    // objects it emptied are removed.
    tokio::time::sleep(Duration::from_millis(5)).await;
    let done = store
        .maintain(&Policy {
            l4_retention: Some(Duration::from_millis(1)),
            ..keep_all.clone()
        })
        .await
        .unwrap();
    assert_eq!(done.expired, [0, 0, 1_010]);
    assert_eq!(done.objects_removed, 2);
    assert_eq!(files(&objects.join("archive")), 0);
    store.clear_l1();
    assert!(store.get("old/0001").await.unwrap().is_none());
    assert!(
        store.get("new/0001").await.unwrap().is_none(),
        "tiered, then expired"
    );

    // Retention in L3, then in L2 (990 records of new/ are left there).
    store.tier_down(i64::MAX, 300, 100).await.unwrap();
    tokio::time::sleep(Duration::from_millis(5)).await;
    let done = store
        .maintain(&Policy {
            l3_retention: Some(Duration::from_millis(1)),
            ..keep_all.clone()
        })
        .await
        .unwrap();
    assert_eq!((done.expired, done.objects_removed), ([0, 300, 0], 3));
    assert_eq!(files(&objects.join("segments")), 0);
    let done = store
        .maintain(&Policy {
            l2_retention: Some(Duration::from_millis(1)),
            ..keep_all.clone()
        })
        .await
        .unwrap();
    assert_eq!(done.expired, [690, 0, 0]);
    let stats = store.stats().await.unwrap();
    assert_eq!(
        (stats.l2_records, stats.l3_records, stats.l4_records),
        (0, 0, 0)
    );
    assert!(store.scan("new/", 1_000).await.unwrap().is_empty());
    assert!(store.verify().await.unwrap().corrupt.is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_policy_moves_by_size_and_deletes_by_retention_in_every_tier() {
    let dir = tempfile::tempdir().unwrap();
    let db = testing::sqlite_in(dir.path()).await;
    exercise(db.clone(), &dir.path().join("objects")).await;
    db.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_policy_moves_by_size_and_deletes_by_retention_in_every_tier() {
    let pg = TempPostgres::create().await;
    let db = pg.database().await;
    let dir = tempfile::tempdir().unwrap();
    exercise(db.clone(), dir.path()).await;
    db.close().await;
    pg.drop_database().await;
}
