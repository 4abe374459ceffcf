//! Time series on a real SQLite file and the real PostgreSQL: rollups answer queries at every
//! step with the same sums, counts and extremes as the raw points.

use switchyard_db::Database;
use switchyard_db::testing::{self, TempPostgres};
use switchyard_store::{Objects, Point, SeriesError, Store, StoreConfig};

const HOUR: i64 = 3_600_000;

async fn exercise(db: Database, objects: &std::path::Path) {
    let store = Store::new(
        db,
        Objects::local(objects).unwrap(),
        &StoreConfig::default(),
    );
    // Three hours of a point every 10 s: value = its index (0, 1, 2, …), in two batches that
    // overlap a bucket boundary, plus a second series that must not mix in.
    let base = 1_700_000_000_000_i64 / HOUR * HOUR;
    let points: Vec<Point> = (0..1_080)
        .map(|i| Point {
            at_ms: base + i * 10_000,
            value: i as f64,
        })
        .collect();
    store.append("cpu", &points[..500]).await.unwrap();
    store.append("cpu", &points[500..]).await.unwrap();
    store
        .append(
            "mem",
            &[Point {
                at_ms: base,
                value: 1e9,
            }],
        )
        .await
        .unwrap();

    // 1 h steps read the hour rollup: 360 points each.
    let hours = store
        .query("cpu", base, base + 3 * HOUR, HOUR)
        .await
        .unwrap();
    assert_eq!(hours.len(), 3);
    for (h, bucket) in hours.iter().enumerate() {
        let first = h as f64 * 360.0;
        assert_eq!(bucket.start_ms, base + h as i64 * HOUR);
        assert_eq!(bucket.count, 360);
        assert_eq!(
            bucket.sum,
            (0..360).map(|i| first + f64::from(i)).sum::<f64>()
        );
        assert_eq!(
            (bucket.min, bucket.max, bucket.last),
            (first, first + 359.0, first + 359.0)
        );
    }
    // 1 min steps: 6 points each; 5 min steps merge minute rollups; 10 s steps read seconds.
    let minutes = store.query("cpu", base, base + HOUR, 60_000).await.unwrap();
    assert_eq!(minutes.len(), 60);
    assert!(minutes.iter().all(|b| b.count == 6));
    assert_eq!(minutes[1].mean(), 8.5);
    let fives = store
        .query("cpu", base, base + HOUR, 300_000)
        .await
        .unwrap();
    assert_eq!((fives.len(), fives[0].count, fives[0].max), (12, 30, 29.0));
    let tens = store
        .query("cpu", base + 60_000, base + 120_000, 10_000)
        .await
        .unwrap();
    assert_eq!(
        tens.iter().map(|b| b.sum).collect::<Vec<_>>(),
        [6.0, 7.0, 8.0, 9.0, 10.0, 11.0]
    );
    // The whole range at once, and the latest point.
    let all = store
        .query("cpu", base - HOUR, base + 4 * HOUR, 5 * HOUR)
        .await
        .unwrap();
    assert_eq!((all.len(), all[0].count), (1, 1_080));
    let latest = store.latest("cpu").await.unwrap().unwrap();
    assert_eq!(
        (latest.at_ms, latest.value),
        (base + 1_079 * 10_000, 1_079.0)
    );
    assert!(store.latest("nothing").await.unwrap().is_none());
    assert_eq!(
        store.query("mem", base, base + HOUR, HOUR).await.unwrap()[0].max,
        1e9
    );

    // Bad input is refused before anything is written.
    let err = store
        .append(
            "cpu",
            &[Point {
                at_ms: base,
                value: f64::NAN,
            }],
        )
        .await
        .unwrap_err();
    assert!(matches!(err, SeriesError::NotFinite { .. }), "{err}");
    // A time far outside the calendar once overflowed the bucket arithmetic (found by
    // Schemathesis through POST /api/v1/events).
    let err = store
        .append(
            "cpu",
            &[Point {
                at_ms: -9_223_372_036_854_775_807,
                value: 1.0,
            }],
        )
        .await
        .unwrap_err();
    assert!(matches!(err, SeriesError::Time { .. }), "{err}");
    assert!(matches!(
        store.query("cpu", base, base + HOUR, 500).await,
        Err(SeriesError::Step(500))
    ));
    assert_eq!(
        store.query("cpu", base, base + HOUR, HOUR).await.unwrap()[0].count,
        360
    );
}

#[tokio::test]
async fn sqlite_series_roll_up() {
    let dir = tempfile::tempdir().unwrap();
    let db = testing::sqlite_in(dir.path()).await;
    exercise(db.clone(), &dir.path().join("objects")).await;
    db.close().await;
}

#[tokio::test]
async fn postgres_series_roll_up() {
    let pg = TempPostgres::create().await;
    let db = pg.database().await;
    let dir = tempfile::tempdir().unwrap();
    exercise(db.clone(), dir.path()).await;
    db.close().await;
    pg.drop_database().await;
}
