//! The archive (L4): old segments sealed under a key, read back transparently, restored on
//! request; without the key, or with damage, nothing is served.

use std::path::{Path, PathBuf};

use switchyard_db::Database;
use switchyard_db::testing::{self, TempPostgres};
use switchyard_store::{ArchiveKey, Objects, Store, StoreConfig, StoreError, StoreEvent, Written};
use tokio::sync::broadcast::error::TryRecvError;

fn key() -> ArchiveKey {
    ArchiveKey::from_hex("6b1d9f3a0c4e2b8d7f6a5e4d3c2b1a0f9e8d7c6b5a4f3e2d1c0b9a8f7e6d5c4b")
        .unwrap()
}

fn files(dir: &Path) -> Vec<PathBuf> {
    std::fs::read_dir(dir).map_or_else(
        |_| Vec::new(),
        |entries| entries.map(|e| e.unwrap().path()).collect(),
    )
}

async fn exercise(db: Database, objects: &Path) {
    let store = Store::new(
        db.clone(),
        Objects::local(objects).unwrap(),
        &StoreConfig::default(),
    )
    .with_archive_key(key());
    let values: Vec<(String, Vec<u8>)> = (0..5_000)
        .map(|i| {
            (
                format!("runs/{i:05}"),
                format!("journal of run {i}").into_bytes(),
            )
        })
        .collect();
    let batch: Vec<(&str, &[u8])> = values
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_slice()))
        .collect();
    store.put_batch(&batch).await.unwrap();
    store.tier_down(i64::MAX, 5_000, 1_000).await.unwrap();
    // One record rewritten after it moved: its L3 copy is stale and must not be archived
    // over the newer one.
    // It comes back to L2 alone, its version carried on from the one it had in L3.
    assert_eq!(
        store.put("runs/00007", b"rewritten").await.unwrap(),
        Written::Stored(vec![2])
    );
    let stats = store.stats().await.unwrap();
    assert_eq!((stats.l2_records, stats.l3_records), (1, 4_999));

    let moved = store.archive(i64::MAX, 100).await.unwrap();
    assert_eq!((moved.records, moved.segments), (4_999, 5));
    let stats = store.stats().await.unwrap();
    assert_eq!((stats.l3_records, stats.l3_segments), (0, 0));
    assert_eq!(
        (stats.l4_records, stats.l4_archives),
        (4_999, 1),
        "the stale copy left out"
    );
    assert!(
        files(&objects.join("segments")).is_empty(),
        "segment objects removed"
    );
    let sealed = files(&objects.join("archive"));
    assert_eq!(sealed.len(), 1);
    let bytes = std::fs::read(&sealed[0]).unwrap();
    assert!(
        !bytes
            .windows(b"journal of run".len())
            .any(|w| w == b"journal of run"),
        "nothing readable without the key"
    );

    // Read back through the store, byte for byte, with nothing cached.
    store.clear_l1();
    for (key, value) in &values {
        let got = store.get(key).await.unwrap().unwrap();
        if key == "runs/00007" {
            assert_eq!(&got.value[..], b"rewritten");
        } else {
            assert_eq!(&got.value[..], value.as_slice(), "{key}");
        }
    }
    assert!(store.verify().await.unwrap().corrupt.is_empty());

    // Restored on request: back in L2 at the archived version, out of the archive index.
    let restored = store.restore("runs/000").await.unwrap();
    assert_eq!(
        restored, 99,
        "runs/00000–00099 but the rewritten one, which is in L2"
    );
    let stats = store.stats().await.unwrap();
    assert_eq!((stats.l2_records, stats.l4_records), (100, 4_900));
    store.clear_l1();
    assert_eq!(
        &store.get("runs/00042").await.unwrap().unwrap().value[..],
        b"journal of run 42"
    );

    // A store without the key cannot read the archive, and says which setting is missing.
    let keyless = Store::new(
        db,
        Objects::local(objects).unwrap(),
        &StoreConfig::default(),
    );
    let err = keyless.get("runs/04000").await.unwrap_err();
    assert!(matches!(err, StoreError::NoArchiveKey), "{err}");
    assert!(err.to_string().contains("archive_key"));
    assert!(matches!(
        keyless.archive(i64::MAX, 1).await,
        Err(StoreError::NoArchiveKey)
    ));

    // A flipped bit in the sealed object: caught, never served. One record was read (and
    // so promoted to L1) before the damage, as a live server would hold it.
    store.clear_l1();
    let read_before = store.get("runs/04001").await.unwrap().unwrap();
    let mut damaged = bytes.clone();
    let middle = damaged.len() / 2;
    damaged[middle] ^= 0x04;
    std::fs::write(&sealed[0], &damaged).unwrap();
    let mut events = store.events();
    let verified = store.verify().await.unwrap();
    assert_eq!(verified.corrupt.len(), 4_900);
    // The copy in L1 repairs its record: back in L2, at its version.
    assert_eq!(verified.repaired, ["runs/04001"]);
    let mut repaired = None;
    loop {
        // 4,900 damage reports overflow the channel: skip what was dropped.
        match events.try_recv() {
            Ok(StoreEvent::Repaired {
                key,
                tier,
                from,
                version,
            }) => repaired = Some((key, tier, from, version)),
            Ok(_) | Err(TryRecvError::Lagged(_)) => {}
            Err(_) => break,
        }
    }
    assert_eq!(
        repaired,
        Some(("runs/04001".to_owned(), "l4", "l1", read_before.version))
    );
    store.clear_l1();
    let err = store.get("runs/04000").await.unwrap_err();
    assert!(
        matches!(&err, StoreError::Corrupt { tier: "l4", .. }),
        "{err}"
    );
    let back = store.get("runs/04001").await.unwrap().unwrap();
    assert_eq!(
        (&back.value[..], back.version),
        (&read_before.value[..], read_before.version)
    );
    let stats = store.stats().await.unwrap();
    assert_eq!((stats.l2_records, stats.l4_records), (101, 4_899));

    // Truncated: caught the same way, and nothing in it is served.
    std::fs::write(&sealed[0], &bytes[..bytes.len() - 7]).unwrap();
    store.clear_l1();
    let err = store.get("runs/04002").await.unwrap_err();
    assert!(
        matches!(&err, StoreError::Corrupt { tier: "l4", .. }),
        "{err}"
    );
    assert_eq!(store.verify().await.unwrap().corrupt.len(), 4_899);
}

#[tokio::test]
async fn sqlite_archive_seals_serves_restores_and_refuses_damage() {
    let dir = tempfile::tempdir().unwrap();
    let db = testing::sqlite_in(dir.path()).await;
    exercise(db.clone(), &dir.path().join("objects")).await;
    db.close().await;
}

#[tokio::test]
async fn postgres_archive_seals_serves_restores_and_refuses_damage() {
    let pg = TempPostgres::create().await;
    let db = pg.database().await;
    let dir = tempfile::tempdir().unwrap();
    exercise(db.clone(), dir.path()).await;
    db.close().await;
    pg.drop_database().await;
}
