//! The store when what it stands on fails: an unreachable database queues writes (with a
//! bound) and reports it; an unreachable object store fails only the reads that need it,
//! keeps every record where it was, and reports it; both recover on their own. Also the S3
//! path end to end, against a real S3-compatible server (moto).

use std::time::{Duration, Instant};

use switchyard_db::testing::{TempPostgres, s3::S3Server};
use switchyard_store::{ArchiveKey, Objects, Store, StoreConfig, StoreError, Written};

async fn put_n(store: &Store, prefix: &str, n: usize) -> Result<Written, StoreError> {
    let batch: Vec<(String, Vec<u8>)> = (0..n)
        .map(|i| {
            (
                format!("{prefix}{i:04}"),
                format!("{prefix} value {i}").into_bytes(),
            )
        })
        .collect();
    let refs: Vec<(&str, &[u8])> = batch
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_slice()))
        .collect();
    store.put_batch(&refs).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unreachable_database_queues_writes_up_to_the_bound_and_flushes_them_on_return() {
    let pg = TempPostgres::create().await;
    let db = pg.database().await;
    let dir = tempfile::tempdir().unwrap();
    let store = Store::new(
        db.clone(),
        Objects::local(dir.path()).unwrap(),
        &StoreConfig {
            write_queue: 300,
            ..StoreConfig::default()
        },
    );
    assert!(matches!(
        put_n(&store, "before/", 100).await,
        Ok(Written::Stored(_))
    ));
    assert!(store.health().is_ok());

    pg.block_connections().await;
    assert_eq!(
        put_n(&store, "during/", 100).await.unwrap(),
        Written::Queued { depth: 100 }
    );
    let health = store.health();
    assert!(!health.database.ok && health.database.error.is_some());
    assert_eq!((health.queued_writes, health.queue_limit), (100, 300));
    // Queued writes are read back (version 0: not yet written); cached records still serve.
    let queued = store.get("during/0005").await.unwrap().unwrap();
    assert_eq!(
        (&queued.value[..], queued.version),
        (&b"during/ value 5"[..], 0)
    );
    assert_eq!(
        &store.get("before/0005").await.unwrap().unwrap().value[..],
        b"before/ value 5"
    );
    assert_eq!(
        put_n(&store, "more/", 150).await.unwrap(),
        Written::Queued { depth: 250 }
    );
    // Past the bound a batch is refused whole, naming the setting, and nothing of it kept.
    let refused = put_n(&store, "refused/", 100).await.unwrap_err();
    assert!(
        matches!(refused, StoreError::QueueFull { limit: 300 }),
        "{refused}"
    );
    assert!(refused.to_string().contains("store_write_queue"));
    assert_eq!(store.health().queued_writes, 250);
    // A read that needs the database says it is unreachable.
    assert!(matches!(
        store.get("refused/0000").await,
        Err(StoreError::Unreachable {
            service: "database",
            ..
        })
    ));
    assert!(matches!(
        store.delete("before/0001").await,
        Err(StoreError::Unreachable {
            service: "database",
            ..
        })
    ));

    // The database comes back: the queue drains by itself, in order, and health clears.
    pg.allow_connections().await;
    let deadline = Instant::now() + Duration::from_secs(30);
    while store.health().queued_writes > 0 {
        assert!(Instant::now() < deadline, "the queue did not drain");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(store.health().is_ok(), "{:?}", store.health());
    store.clear_l1();
    let written = store.get("during/0005").await.unwrap().unwrap();
    assert_eq!(
        (&written.value[..], written.version),
        (&b"during/ value 5"[..], 1)
    );
    let stats = store.stats().await.unwrap();
    assert_eq!(
        stats.l2_records, 350,
        "100 before + 250 queued, none refused"
    );
    db.close().await;
    pg.drop_database().await;
}

fn s3_objects(server: &S3Server, prefix: &str) -> Objects {
    let settings = server.settings();
    let settings: Vec<(&str, &str)> = settings.iter().map(|(k, v)| (*k, v.as_str())).collect();
    Objects::open_with(
        &format!("s3://{}/{prefix}", switchyard_db::testing::s3::BUCKET),
        &settings,
    )
    .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn s3_holds_l3_and_l4_refuses_damage_and_an_outage_degrades_without_losing_anything() {
    let server = S3Server::start();
    let dir = tempfile::tempdir().unwrap();
    let db = switchyard_db::testing::sqlite_in(dir.path()).await;
    let objects = s3_objects(&server, "tenant-a");
    objects.probe().await.unwrap();
    let store = Store::new(db.clone(), objects.clone(), &StoreConfig::default())
        .with_archive_key(ArchiveKey::from_hex(&"7e".repeat(32)).unwrap());

    // L3 and L4 in the bucket, read back byte for byte.
    put_n(&store, "runs/", 3_000).await.unwrap();
    assert_eq!(
        store
            .tier_down(i64::MAX, 2_000, 1_000)
            .await
            .unwrap()
            .segments,
        2
    );
    assert_eq!(store.archive(i64::MAX, 1).await.unwrap().records, 1_000);
    store.clear_l1();
    let all = store.scan("runs/", 5_000).await.unwrap();
    assert_eq!(all.len(), 3_000);
    for (i, record) in all.iter().enumerate() {
        assert_eq!(record.value[..], *format!("runs/ value {i}").as_bytes());
    }
    let listed: Vec<String> = {
        use futures_util::TryStreamExt as _;
        objects
            .store()
            .list(None)
            .map_ok(|meta| meta.location.to_string())
            .try_collect()
            .await
            .unwrap()
    };
    assert_eq!(listed.len(), 2, "one segment and one archive: {listed:?}");
    assert!(listed.iter().any(|p| p.starts_with("segments/")));
    assert!(listed.iter().any(|p| p.starts_with("archive/")));

    // A flipped bit in the segment, written through S3: detected, never served.
    let segment = object_store::path::Path::from(
        listed
            .iter()
            .find(|p| p.starts_with("segments/"))
            .unwrap()
            .as_str(),
    );
    let mut bytes = objects
        .store()
        .get(&segment)
        .await
        .unwrap()
        .bytes()
        .await
        .unwrap()
        .to_vec();
    let middle = bytes.len() / 2;
    bytes[middle] ^= 0x20;
    objects.store().put(&segment, bytes.into()).await.unwrap();
    store.clear_l1();
    let damaged = store.get("runs/1500").await.unwrap_err();
    assert!(
        matches!(damaged, StoreError::Corrupt { tier: "l3", .. }),
        "{damaged}"
    );
    assert_eq!(store.verify().await.unwrap().corrupt.len(), 1_000);

    // The object store goes away. Reads that need it fail saying so (within seconds, not
    // minutes); everything else keeps working; a move fails and moves nothing.
    let port = server.stop();
    store.clear_l1();
    let started = Instant::now();
    let err = store.get("runs/0001").await.unwrap_err();
    assert!(
        matches!(
            err,
            StoreError::Unreachable {
                service: "object store",
                ..
            }
        ),
        "{err}"
    );
    assert!(
        started.elapsed() < Duration::from_secs(20),
        "{:?}",
        started.elapsed()
    );
    let health = store.health();
    assert!(!health.objects.ok && health.database.ok, "{health:?}");
    assert_eq!(
        &store.get("runs/2999").await.unwrap().unwrap().value[..],
        b"runs/ value 2999",
        "L2 still serves"
    );
    assert!(matches!(
        store.tier_down(i64::MAX, 1_000, 1_000).await,
        Err(StoreError::Unreachable { .. })
    ));
    let stats = store.stats().await.unwrap();
    assert_eq!(
        (stats.l2_records, stats.l3_records, stats.l4_records),
        (1_000, 1_000, 1_000),
        "nothing lost or moved"
    );
    assert!(store.probe_objects().await.is_err());

    // It comes back (empty: moto keeps nothing): the probe clears health.
    let _server = S3Server::start_on(port);
    store.probe_objects().await.unwrap();
    assert!(store.health().objects.ok);
    db.close().await;
}
