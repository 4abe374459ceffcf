//! The audit log's chain on a real SQLite file and the real PostgreSQL: an intact log
//! verifies; an edited row, a deleted row in the middle and a deleted newest row are each
//! caught and named.

use switchyard_auth::audit::{self, Entry, Verdict};
use switchyard_db::Database;
use switchyard_db::testing::{self, TempPostgres};

fn entry(i: usize) -> Entry {
    Entry {
        actor: format!("user-{}", i % 3),
        action: if i.is_multiple_of(2) {
            "runs.create"
        } else {
            "auth.login"
        }
        .into(),
        target: format!("run-{i}"),
        result: if i.is_multiple_of(5) { "denied" } else { "ok" }.into(),
        ip: "127.0.0.1".into(),
        user_agent: "test".into(),
    }
}

async fn execute(db: &Database, sql: &str) {
    match db {
        Database::Sqlite(pool) => {
            sqlx::query(sql).execute(pool).await.unwrap();
        }
        Database::Postgres(pool) => {
            sqlx::query(sql).execute(pool).await.unwrap();
        }
    }
}

async fn exercise(db: Database) {
    assert_eq!(
        audit::verify(&db).await.unwrap(),
        Verdict::Intact { rows: 0 }
    );
    // Concurrent appends still make one unbroken chain.
    let mut tasks = Vec::new();
    for i in 0..50 {
        let db = db.clone();
        tasks.push(tokio::spawn(async move {
            audit::append(&db, &entry(i)).await.unwrap()
        }));
    }
    let mut seqs: Vec<i64> = Vec::new();
    for task in tasks {
        seqs.push(task.await.unwrap());
    }
    seqs.sort();
    assert_eq!(seqs, (1..=50).collect::<Vec<_>>());
    assert_eq!(
        audit::verify(&db).await.unwrap(),
        Verdict::Intact { rows: 50 }
    );
    let denied = audit::list(&db, 0, 100, None, Some("runs.create"))
        .await
        .unwrap();
    assert_eq!(denied.len(), 25);

    // An edited field.
    execute(
        &db,
        "UPDATE audit_log SET result = result || '!' WHERE seq = 20",
    )
    .await;
    assert_eq!(
        audit::verify(&db).await.unwrap(),
        Verdict::Edited { seq: 20 }
    );

    // Another edit on a fresh chain, in a different field.
    execute(&db, "DELETE FROM audit_log").await;
    execute(&db, "DELETE FROM audit_head").await;
    for i in 0..10 {
        audit::append(&db, &entry(i)).await.unwrap();
    }
    assert_eq!(
        audit::verify(&db).await.unwrap(),
        Verdict::Intact { rows: 10 }
    );
    execute(
        &db,
        "UPDATE audit_log SET actor = 'someone-else' WHERE seq = 4",
    )
    .await;
    assert_eq!(
        audit::verify(&db).await.unwrap(),
        Verdict::Edited { seq: 4 }
    );

    // A deleted row in the middle, on a fresh chain.
    execute(&db, "DELETE FROM audit_log").await;
    execute(&db, "DELETE FROM audit_head").await;
    for i in 0..10 {
        audit::append(&db, &entry(i)).await.unwrap();
    }
    execute(&db, "DELETE FROM audit_log WHERE seq = 6").await;
    assert_eq!(
        audit::verify(&db).await.unwrap(),
        Verdict::Gap { after: 5, next: 7 }
    );

    // The newest rows deleted: the head remembers them.
    execute(&db, "DELETE FROM audit_log").await;
    execute(&db, "DELETE FROM audit_head").await;
    for i in 0..10 {
        audit::append(&db, &entry(i)).await.unwrap();
    }
    execute(&db, "DELETE FROM audit_log WHERE seq >= 9").await;
    assert_eq!(
        audit::verify(&db).await.unwrap(),
        Verdict::Gap { after: 8, next: 11 }
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_audit_chain_catches_edits_and_deletions() {
    let dir = tempfile::tempdir().unwrap();
    let db = testing::sqlite_in(dir.path()).await;
    exercise(db.clone()).await;
    db.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_audit_chain_catches_edits_and_deletions() {
    let pg = TempPostgres::create().await;
    let db = pg.database().await;
    exercise(db.clone()).await;
    db.close().await;
    pg.drop_database().await;
}
