//! The same operations against a real SQLite file and the real PostgreSQL.

use std::time::Duration;

use switchyard_db::nodes::{self, NodeInfo};
use switchyard_db::testing::TempPostgres;
use switchyard_db::{ConnectOptions, Database, DatabaseUrl, SqliteSync, migrate};
use switchyard_protocol::DatabaseKind;

fn node(id: &str) -> NodeInfo {
    NodeInfo {
        id: id.to_owned(),
        hostname: "test-host".into(),
        version: "0.0.0-test".into(),
        listen: "127.0.0.1:0".into(),
    }
}

async fn open_sqlite(dir: &tempfile::TempDir, sync: SqliteSync) -> Database {
    let url = DatabaseUrl::sqlite(dir.path().join("t.db"));
    let options = ConnectOptions {
        sqlite_sync: sync,
        ..ConnectOptions::default()
    };
    Database::connect(&url, &options).await.unwrap()
}

/// Registers, stops and lists nodes; the behaviour every backend must share.
async fn exercise_nodes(db: &Database) {
    migrate::run(db).await.unwrap();
    // Migrating twice is a no-op, as it is on every restart.
    migrate::run(db).await.unwrap();

    nodes::register(db, &node("a")).await.unwrap();
    tokio::time::sleep(Duration::from_millis(5)).await;
    nodes::register(db, &node("b")).await.unwrap();
    nodes::mark_stopped(db, "a").await.unwrap();

    let rows = nodes::list(db).await.unwrap();
    let ids: Vec<_> = rows.iter().map(|r| r.id.as_str()).collect();
    assert_eq!(ids, ["b", "a"], "newest start first");
    assert!(rows[0].stopped_at.is_none());
    let stopped = rows[1].stopped_at.expect("a was stopped");
    assert!(stopped >= rows[1].started_at);
    assert_eq!(rows[1].last_seen_at, stopped);

    // A duplicate id is refused by the primary key, and nothing else changes.
    assert!(nodes::register(db, &node("a")).await.is_err());
    assert_eq!(nodes::list(db).await.unwrap().len(), 2);

    let health = db.probe(Duration::from_secs(2)).await;
    assert!(health.ok);
}

#[tokio::test]
async fn sqlite_opens_with_the_documented_pragmas() {
    let dir = tempfile::tempdir().unwrap();
    for (sync, expected) in [(SqliteSync::Normal, 1_i64), (SqliteSync::Full, 2)] {
        let db = open_sqlite(&dir, sync).await;
        let Database::Sqlite(pool) = &db else {
            panic!("expected SQLite")
        };
        let mut conn = pool.acquire().await.unwrap();
        let journal: String = sqlx::query_scalar("PRAGMA journal_mode")
            .fetch_one(&mut *conn)
            .await
            .unwrap();
        let synchronous: i64 = sqlx::query_scalar("PRAGMA synchronous")
            .fetch_one(&mut *conn)
            .await
            .unwrap();
        let foreign_keys: i64 = sqlx::query_scalar("PRAGMA foreign_keys")
            .fetch_one(&mut *conn)
            .await
            .unwrap();
        let busy: i64 = sqlx::query_scalar("PRAGMA busy_timeout")
            .fetch_one(&mut *conn)
            .await
            .unwrap();
        assert_eq!(journal, "wal");
        assert_eq!(synchronous, expected, "{sync:?}");
        assert_eq!(foreign_keys, 1);
        assert_eq!(busy, 5_000);
        drop(conn);
        db.close().await;
    }
}

#[tokio::test]
async fn sqlite_nodes_round_trip() {
    let dir = tempfile::tempdir().unwrap();
    let db = open_sqlite(&dir, SqliteSync::Normal).await;
    assert_eq!(db.kind(), DatabaseKind::Sqlite);
    exercise_nodes(&db).await;
    db.close().await;
}

#[tokio::test]
async fn postgres_nodes_round_trip() {
    let pg = TempPostgres::create().await;
    let url = DatabaseUrl::parse(&pg.url).unwrap();
    let db = Database::connect(&url, &ConnectOptions::default())
        .await
        .unwrap();
    assert_eq!(db.kind(), DatabaseKind::Postgres);
    exercise_nodes(&db).await;
    db.close().await;
    pg.drop_database().await;
}

/// Both migration sets must produce the same tables with the same columns, in the same order,
/// but for the search index, which each backend keeps its own way: SQLite's FTS5 table and its
/// shadow tables (`search_index*`), PostgreSQL's `tsvector` column (`search_documents.tsv`).
#[tokio::test]
async fn both_backends_have_the_same_schema() {
    let dir = tempfile::tempdir().unwrap();
    let sqlite = open_sqlite(&dir, SqliteSync::Normal).await;
    migrate::run(&sqlite).await.unwrap();
    let pg = TempPostgres::create().await;
    let postgres = Database::connect(
        &DatabaseUrl::parse(&pg.url).unwrap(),
        &ConnectOptions::default(),
    )
    .await
    .unwrap();
    migrate::run(&postgres).await.unwrap();

    assert_eq!(
        migrate::known(&sqlite),
        migrate::known(&postgres),
        "migration versions and names must be kept in step"
    );

    let Database::Sqlite(lite) = &sqlite else {
        unreachable!()
    };
    let Database::Postgres(pgpool) = &postgres else {
        unreachable!()
    };
    let sqlite_columns: Vec<(String, String)> = sqlx::query_as(
        "SELECT m.name, p.name FROM sqlite_master m JOIN pragma_table_info(m.name) p \
         WHERE m.type = 'table' AND m.name NOT LIKE 'sqlite_%' AND m.name NOT LIKE '_sqlx%' \
         AND m.name NOT LIKE 'search_index%' ORDER BY m.name, p.cid",
    )
    .fetch_all(lite)
    .await
    .unwrap();
    let pg_columns: Vec<(String, String)> = sqlx::query_as(
        "SELECT table_name::text, column_name::text FROM information_schema.columns \
         WHERE table_schema = 'public' AND table_name NOT LIKE '_sqlx%' \
         AND NOT (table_name = 'search_documents' AND column_name = 'tsv') \
         ORDER BY table_name, ordinal_position",
    )
    .fetch_all(pgpool)
    .await
    .unwrap();
    assert!(!sqlite_columns.is_empty());
    assert_eq!(sqlite_columns, pg_columns);

    sqlite.close().await;
    postgres.close().await;
    pg.drop_database().await;
}

#[tokio::test]
async fn unreachable_postgres_is_one_line_naming_the_target() {
    let url = DatabaseUrl::parse("postgres://postgres@127.0.0.1:1/test").unwrap();
    let options = ConnectOptions {
        timeout: Duration::from_secs(2),
        ..ConnectOptions::default()
    };
    let err = Database::connect(&url, &options)
        .await
        .unwrap_err()
        .to_string();
    assert!(
        err.starts_with("cannot connect to PostgreSQL at 127.0.0.1:1/test:"),
        "{err}"
    );
    assert!(!err.contains('\n'), "{err}");
}
