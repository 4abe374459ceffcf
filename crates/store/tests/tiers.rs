//! Records moved from L2 to L3 (object storage) and read back; damage to a segment object is
//! caught, never served, and repaired when good copies exist.

use std::path::{Path, PathBuf};

use switchyard_db::Database;
use switchyard_db::testing::{self, TempPostgres};
use switchyard_store::{Objects, Store, StoreConfig, StoreError};

fn segment_files(objects: &Path) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(objects.join("segments"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    files.sort();
    files
}

fn value(i: usize) -> Vec<u8> {
    // Mixed content: text, and every byte value, so encoding round trips are exercised.
    let mut v = format!("{{\"seq\":{i}}}").into_bytes();
    v.extend((0..=255u8).cycle().skip(i % 256).take(i % 97));
    v
}

async fn hundred_thousand_records_through_every_tier(db: Database, objects: &Path) {
    const N: usize = 100_000;
    let key = switchyard_store::ArchiveKey::from_hex(&"5a".repeat(32)).unwrap();
    let store = Store::new(
        db,
        Objects::local(objects).unwrap(),
        &StoreConfig::default(),
    )
    .with_archive_key(key);
    let keys: Vec<String> = (0..N).map(|i| format!("logs/{i:06}")).collect();
    let values: Vec<Vec<u8>> = (0..N).map(value).collect();
    for (keys, values) in keys.chunks(5_000).zip(values.chunks(5_000)) {
        let batch: Vec<(&str, &[u8])> = keys
            .iter()
            .map(String::as_str)
            .zip(values.iter().map(Vec::as_slice))
            .collect();
        store.put_batch(&batch).await.unwrap();
    }
    // Through L1 …
    for (key, value) in keys.iter().zip(&values).step_by(97) {
        assert_eq!(
            &store.get(key).await.unwrap().unwrap().value[..],
            value.as_slice()
        );
    }
    // … L2 …
    store.clear_l1();
    for (key, value) in keys.iter().zip(&values).step_by(89) {
        assert_eq!(
            &store.get(key).await.unwrap().unwrap().value[..],
            value.as_slice()
        );
    }
    // … and L3: everything written before now moves, in segments of 20,000.
    let moved = store.tier_down(i64::MAX, N, 20_000).await.unwrap();
    assert_eq!((moved.records, moved.segments), (N as u64, 5));
    let stats = store.stats().await.unwrap();
    assert_eq!(
        (stats.l2_records, stats.l3_records, stats.l3_segments),
        (0, N as u64, 5)
    );
    assert!(stats.l3_bytes > 0);
    // Every record, read back from the segments by scan, byte for byte …
    store.clear_l1();
    let mut read_back = 0;
    for block in 0..10 {
        let page = store.scan(&format!("logs/0{block}"), 20_000).await.unwrap();
        assert_eq!(page.len(), 10_000);
        for record in page {
            let i: usize = record.key["logs/".len()..].parse().unwrap();
            assert_eq!(&record.value[..], values[i].as_slice(), "{}", record.key);
            assert_eq!(record.version, 1);
            read_back += 1;
        }
    }
    assert_eq!(read_back, N);
    // … and one by one, with L1 empty.
    store.clear_l1();
    for (key, value) in keys.iter().zip(&values).step_by(101) {
        assert_eq!(
            &store.get(key).await.unwrap().unwrap().value[..],
            value.as_slice(),
            "{key}"
        );
    }
    let verified = store.verify().await.unwrap();
    assert_eq!((verified.checked, verified.corrupt.len()), (N as u64, 0));

    // … and L4: every segment sealed into the archive, read back byte for byte.
    let moved = store.archive(i64::MAX, 100).await.unwrap();
    assert_eq!((moved.records, moved.segments), (N as u64, 5));
    let stats = store.stats().await.unwrap();
    assert_eq!((stats.l3_records, stats.l4_records), (0, N as u64));
    store.clear_l1();
    let mut read_back = 0;
    for block in 0..10 {
        for record in store.scan(&format!("logs/0{block}"), 20_000).await.unwrap() {
            let i: usize = record.key["logs/".len()..].parse().unwrap();
            assert_eq!(&record.value[..], values[i].as_slice(), "{}", record.key);
            read_back += 1;
        }
    }
    assert_eq!(read_back, N, "scan reaches the archive too");
    let verified = store.verify().await.unwrap();
    assert_eq!((verified.checked, verified.corrupt.len()), (N as u64, 0));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_moves_a_hundred_thousand_records_through_l3_and_l4_and_back() {
    let dir = tempfile::tempdir().unwrap();
    let db = testing::sqlite_in(dir.path()).await;
    hundred_thousand_records_through_every_tier(db.clone(), &dir.path().join("objects")).await;
    db.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_moves_a_hundred_thousand_records_through_l3_and_l4_and_back() {
    let pg = TempPostgres::create().await;
    let db = pg.database().await;
    let dir = tempfile::tempdir().unwrap();
    hundred_thousand_records_through_every_tier(db.clone(), dir.path()).await;
    db.close().await;
    pg.drop_database().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_damaged_segment_is_never_served_and_is_repaired_from_a_good_copy() {
    let dir = tempfile::tempdir().unwrap();
    let db = testing::sqlite_in(dir.path()).await;
    let objects = dir.path().join("objects");
    let store = Store::new(
        db.clone(),
        Objects::local(&objects).unwrap(),
        &StoreConfig::default(),
    );
    let batch: Vec<(String, Vec<u8>)> = (0..500).map(|i| (format!("k/{i:03}"), value(i))).collect();
    let refs: Vec<(&str, &[u8])> = batch
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_slice()))
        .collect();
    store.put_batch(&refs).await.unwrap();
    store.tier_down(i64::MAX, 500, 250).await.unwrap();
    let files = segment_files(&objects);
    assert_eq!(files.len(), 2);

    // A flipped bit anywhere in a segment is caught: twenty places across the object, each
    // read with nothing cached, each refused.
    let original = std::fs::read(&files[0]).unwrap();
    for n in 0..20 {
        let mut bytes = original.clone();
        let at = n * (bytes.len() - 1) / 19;
        bytes[at] ^= 0x01 << (n % 8);
        std::fs::write(&files[0], &bytes).unwrap();
        let fresh = Store::new(
            db.clone(),
            Objects::local(&objects).unwrap(),
            &StoreConfig::default(),
        );
        let err = fresh.get("k/000").await.unwrap_err();
        assert!(
            matches!(err, StoreError::Corrupt { tier: "l3", .. }),
            "byte {at}: {err}"
        );
    }
    std::fs::write(&files[0], &original).unwrap();

    // A flipped bit while L1 still holds every record: verify rewrites the segment.
    let mut bytes = std::fs::read(&files[0]).unwrap();
    let middle = bytes.len() / 2;
    bytes[middle] ^= 0x10;
    std::fs::write(&files[0], &bytes).unwrap();
    let verified = store.verify().await.unwrap();
    assert_eq!(verified.corrupt.len(), 250);
    assert_eq!(verified.repaired.len(), 250);
    store.clear_l1();
    for (key, value) in &batch {
        assert_eq!(
            &store.get(key).await.unwrap().unwrap().value[..],
            value.as_slice()
        );
    }
    assert!(store.verify().await.unwrap().corrupt.is_empty());

    // Truncated, with no good copy anywhere: every read of it fails, naming the key.
    store.clear_l1();
    let bytes = std::fs::read(&files[1]).unwrap();
    std::fs::write(&files[1], &bytes[..bytes.len() / 3]).unwrap();
    let mut failed = 0;
    for (key, _) in &batch {
        match store.get(key).await {
            Ok(Some(_)) => {}
            Err(StoreError::Corrupt { key: named, tier }) => {
                assert_eq!((named.as_str(), tier), (key.as_str(), "l3"));
                failed += 1;
            }
            other => panic!("{key}: {other:?}"),
        }
    }
    assert_eq!(failed, 250);
    let verified = store.verify().await.unwrap();
    assert_eq!((verified.corrupt.len(), verified.repaired.len()), (250, 0));
    db.close().await;
}
