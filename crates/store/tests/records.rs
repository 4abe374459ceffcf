//! The store on a real SQLite file and the real PostgreSQL: the same behaviour on both.

use switchyard_db::Database;
use switchyard_db::testing::{self, TempPostgres};
use switchyard_store::{Objects, Store, StoreConfig, StoreError, StoreEvent, Written};

/// Damages the stored value of `key` behind the store's back: its first byte, one bit.
async fn flip_a_bit(db: &Database, key: &str) {
    let damage = |mut value: Vec<u8>| {
        value[0] ^= 0x01;
        value
    };
    let select = "SELECT value FROM store_records WHERE key = $1";
    let update = "UPDATE store_records SET value = $2 WHERE key = $1";
    match db {
        Database::Sqlite(pool) => {
            let (value,): (Vec<u8>,) = sqlx::query_as(select)
                .bind(key)
                .fetch_one(pool)
                .await
                .unwrap();
            sqlx::query(update)
                .bind(key)
                .bind(damage(value))
                .execute(pool)
                .await
                .unwrap();
        }
        Database::Postgres(pool) => {
            let (value,): (Vec<u8>,) = sqlx::query_as(select)
                .bind(key)
                .fetch_one(pool)
                .await
                .unwrap();
            sqlx::query(update)
                .bind(key)
                .bind(damage(value))
                .execute(pool)
                .await
                .unwrap();
        }
    }
}

async fn exercise(db: Database, objects: &std::path::Path) {
    let store = Store::new(
        db.clone(),
        Objects::local(objects).unwrap(),
        &StoreConfig::default(),
    );
    let mut events = store.events();

    // Versions count writes; a batch is one transaction and may name a key twice.
    assert_eq!(
        store.put("runs/1", b"first").await.unwrap(),
        Written::Stored(vec![1])
    );
    assert_eq!(
        store.put("runs/1", b"second").await.unwrap().versions(),
        Some(&[2][..])
    );
    let batch: Vec<(String, Vec<u8>)> = (0..1_000)
        .map(|i| (format!("events/{i:04}"), format!("event {i}").into_bytes()))
        .collect();
    let refs: Vec<(&str, &[u8])> = batch
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_slice()))
        .collect();
    let versions = store.put_batch(&refs).await.unwrap();
    assert_eq!(versions, Written::Stored(vec![1; 1_000]));
    let twice = store
        .put_batch(&[("dup", b"a"), ("dup", b"b")])
        .await
        .unwrap();
    assert_eq!(twice, Written::Stored(vec![1, 1]));

    // Reads come back byte for byte, from L1 and, with L1 cleared, from L2.
    store.clear_l1();
    let got = store.get("runs/1").await.unwrap().unwrap();
    assert_eq!((&got.value[..], got.version), (&b"second"[..], 2));
    assert_eq!(&store.get("dup").await.unwrap().unwrap().value[..], b"b");
    assert!(store.get("missing").await.unwrap().is_none());
    for (key, value) in &batch {
        assert_eq!(
            &store.get(key).await.unwrap().unwrap().value[..],
            value.as_slice()
        );
    }

    // Prefix scans, in key order, bounded.
    let scanned = store.scan("events/00", 1_000).await.unwrap();
    assert_eq!(scanned.len(), 100);
    assert_eq!(scanned[0].key, "events/0000");
    assert_eq!(scanned[99].key, "events/0099");
    assert_eq!(store.scan("events/", 7).await.unwrap().len(), 7);
    assert!(store.scan("nothing/", 10).await.unwrap().is_empty());

    // A flipped bit in L2: never served; reported; repaired from L1 by verify.
    flip_a_bit(&db, "events/0007").await;
    let verified = store.verify().await.unwrap();
    assert_eq!(verified.checked, 1_002);
    assert_eq!(verified.corrupt, ["events/0007"]);
    assert_eq!(
        verified.repaired,
        ["events/0007"],
        "L1 held the same version"
    );
    assert_eq!(
        events.recv().await.unwrap(),
        StoreEvent::CorruptCopy {
            key: "events/0007".into(),
            tier: "l2"
        }
    );
    assert!(matches!(
        events.recv().await.unwrap(),
        StoreEvent::Repaired { from: "l1", .. }
    ));
    store.clear_l1();
    assert_eq!(
        &store.get("events/0007").await.unwrap().unwrap().value[..],
        b"event 7"
    );

    // With no good copy left, the read fails naming the key, and verify reports it.
    store.clear_l1();
    flip_a_bit(&db, "events/0008").await;
    let err = store.get("events/0008").await.unwrap_err();
    assert!(
        matches!(&err, StoreError::Corrupt { key, .. } if key == "events/0008"),
        "{err}"
    );
    assert!(
        store.scan("events/000", 100).await.is_err(),
        "a scan does not skip damage"
    );
    let verified = store.verify().await.unwrap();
    assert_eq!((verified.corrupt.len(), verified.repaired.len()), (1, 0));

    // Deletes reach every tier; stats count what is left.
    assert!(store.delete("runs/1").await.unwrap());
    assert!(!store.delete("runs/1").await.unwrap());
    assert!(store.get("runs/1").await.unwrap().is_none());
    let stats = store.stats().await.unwrap();
    assert_eq!(stats.l2_records, 1_001);
    assert!(stats.l2_bytes > 7_000);
    assert!(stats.l2_oldest_ms.is_some() && stats.l2_newest_ms >= stats.l2_oldest_ms);
}

#[tokio::test]
async fn sqlite_store_round_trips_detects_and_repairs() {
    let dir = tempfile::tempdir().unwrap();
    let db = testing::sqlite_in(dir.path()).await;
    exercise(db.clone(), &dir.path().join("objects")).await;
    db.close().await;
}

#[tokio::test]
async fn postgres_store_round_trips_detects_and_repairs() {
    let pg = TempPostgres::create().await;
    let db = pg.database().await;
    let dir = tempfile::tempdir().unwrap();
    exercise(db.clone(), dir.path()).await;
    db.close().await;
    pg.drop_database().await;
}
