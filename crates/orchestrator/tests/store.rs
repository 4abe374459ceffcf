//! The run store on a real SQLite file and the real PostgreSQL: the same behaviour on both.

mod common;

use std::time::Duration;

use chrono::{DateTime, Utc};
use serde_json::json;
use switchyard_db::testing::TempPostgres;
use switchyard_db::{ConnectOptions, Database, DatabaseUrl, migrate};
use switchyard_orchestrator::decide;
use switchyard_orchestrator::runlog::{RunChange, RunLog, RunLogError, Verification};
use switchyard_orchestrator::{EventKind, RunState, RunStatus};

/// Decides the next events from the state and the current time.
type Decision = Box<dyn Fn(&RunState, DateTime<Utc>) -> Vec<EventKind>>;

/// A run kept in memory the way the engine will: state plus the seq it was stored at.
struct Tracked {
    id: String,
    state: RunState,
    stored_seq: u64,
    now: DateTime<Utc>,
}

impl Tracked {
    /// Turns decided events into the change that records them.
    fn change(&mut self, kinds: Vec<EventKind>) -> RunChange {
        // Sub-microsecond time, to prove PostgreSQL's microsecond columns lose nothing.
        self.now += chrono::Duration::nanoseconds(1_000_001_337);
        let events = self.state.append(kinds, self.now).unwrap();
        let change = RunChange::new(self.id.clone(), self.stored_seq, events, self.state.clone());
        self.stored_seq = self.state.last_seq;
        change
    }
}

fn new_run(id: &str, priority: i32) -> (Tracked, RunChange) {
    let created = common::created(
        json!({"steps": [
            {"key": "a", "agent": "ops", "tool": "noop", "compensation": {"tool": "noop"}},
            {"key": "b", "agent": "ops", "tool": "noop", "depends_on": ["a"]}
        ]}),
        priority,
    );
    let now = common::start_time();
    let state = RunState::replay([&created]).unwrap();
    let tracked = Tracked {
        id: id.to_owned(),
        state: state.clone(),
        stored_seq: 1,
        now,
    };
    let change = RunChange::new(id.to_owned(), 0, vec![created], state);
    (tracked, change)
}

/// Makes a new run's change record `goal` as the words it was planned from.
fn given_goal(change: &mut RunChange, goal: &str) {
    if let switchyard_orchestrator::EventKind::RunCreated { goal: recorded, .. } =
        &mut change.events[0].kind
    {
        *recorded = Some(goal.to_owned());
    }
    std::sync::Arc::make_mut(&mut change.state).goal = Some(goal.to_owned());
}

async fn event_count(store: &RunLog, id: &str) -> usize {
    store.events(id, 0).await.unwrap().len()
}

/// The behaviour both backends must share.
async fn exercise(db: Database) {
    migrate::run(&db).await.unwrap();
    let store = RunLog::new(db.clone());

    let (mut run, created) = new_run("run-1", 5);
    store.commit(std::slice::from_ref(&created)).await.unwrap();
    assert_eq!(store.verify("run-1").await.unwrap(), Verification::Matches);
    assert_eq!(store.state("run-1").await.unwrap(), run.state);

    // Drive it to a saga, verifying after every commit.
    let lease = Duration::from_secs(30);
    let steps: Vec<Decision> = vec![
        Box::new(|s, _| decide::start(s).unwrap()),
        Box::new(move |s, now| decide::lease(s, "a", "w1", now, lease).unwrap()),
        Box::new(|s, _| decide::succeed(s, "a", 1, json!({"id": 1})).unwrap()),
        Box::new(move |s, now| decide::lease(s, "b", "w1", now, lease).unwrap()),
        Box::new(|s, now| decide::fail(s, "b", 2, "boom", false, now, 0.5).unwrap()),
    ];
    // Every other commit leaves the snapshot as it was: reads fold the events after it.
    for (i, decide_next) in steps.into_iter().enumerate() {
        let kinds = decide_next(&run.state, run.now);
        let mut change = run.change(kinds);
        change.snapshot = i % 2 == 1;
        store.commit(&[change]).await.unwrap();
        assert_eq!(store.verify("run-1").await.unwrap(), Verification::Matches);
        assert_eq!(store.state("run-1").await.unwrap(), run.state);
    }
    assert_eq!(run.state.status, RunStatus::Compensating);
    let stored = store.state("run-1").await.unwrap();
    assert_eq!(stored, run.state);
    assert_eq!(stored.compensation_queue, ["a"]);

    // The log reads back in order, from any point.
    let all = store.events("run-1", 0).await.unwrap();
    assert_eq!(all.len() as u64, run.state.last_seq);
    assert!(all.windows(2).all(|w| w[1].seq == w[0].seq + 1));
    let tail = store.events("run-1", 5).await.unwrap();
    assert_eq!(tail.first().map(|e| e.seq), Some(6));
    assert_eq!(RunState::replay(&all).unwrap(), run.state);

    // A writer that decided on an old seq is refused, and nothing is written.
    let before = event_count(&store, "run-1").await;
    let mut stale = run.change(decide::compensated(&run.state, "a", None).unwrap());
    stale.expected_seq -= 1;
    stale.events.iter_mut().for_each(|e| e.seq -= 1);
    std::sync::Arc::make_mut(&mut stale.state).last_seq -= 1;
    let err = store.commit(&[stale]).await.unwrap_err();
    assert!(matches!(err, RunLogError::Conflict { .. }), "{err}");
    assert_eq!(event_count(&store, "run-1").await, before);

    // A batch is all or nothing: a new run plus a conflicting change store neither.
    let (_, mut other) = new_run("run-2", 9);
    given_goal(&mut other, "Summarise the Release notes");
    let duplicate = created.clone();
    let err = store.commit(&[other.clone(), duplicate]).await.unwrap_err();
    assert!(matches!(err, RunLogError::Conflict { .. }), "{err}");
    assert!(matches!(
        store.state("run-2").await.unwrap_err(),
        RunLogError::NotFound(_)
    ));
    store.commit(&[other]).await.unwrap();
    assert_eq!(
        store.unfinished().await.unwrap(),
        ["run-2", "run-1"],
        "priority first"
    );

    // Listings: newest id first, filtered by status, paged by cursor.
    let ids = |runs: Vec<switchyard_orchestrator::runlog::RunSummary>| {
        runs.into_iter().map(|r| r.id).collect::<Vec<_>>()
    };
    assert_eq!(
        ids(store.list(None, None, None, 10).await.unwrap()),
        ["run-2", "run-1"]
    );
    assert_eq!(
        ids(store.list(None, None, None, 1).await.unwrap()),
        ["run-2"]
    );
    assert_eq!(
        ids(store.list(None, Some("run-2"), None, 10).await.unwrap()),
        ["run-1"]
    );
    // By project: both runs are in the default one.
    let default = ["default".to_owned()];
    assert_eq!(
        ids(store.list(None, None, Some(&default), 10).await.unwrap()),
        ["run-2", "run-1"]
    );
    assert!(
        store
            .list(None, None, Some(&["other".to_owned()]), 10)
            .await
            .unwrap()
            .is_empty()
    );
    assert!(
        store
            .list(None, None, Some(&[]), 10)
            .await
            .unwrap()
            .is_empty()
    );
    // By a part of the id, its LIKE wildcards taken literally.
    let part = |text: &'static str| switchyard_orchestrator::runlog::RunFilter {
        id_part: Some(text),
        ..Default::default()
    };
    assert_eq!(
        ids(store.list_matching(&part("n-1"), 10).await.unwrap()),
        ["run-1"]
    );
    assert_eq!(
        ids(store.list_matching(&part("run"), 10).await.unwrap()),
        ["run-2", "run-1"]
    );
    assert!(
        store
            .list_matching(&part("run_"), 10)
            .await
            .unwrap()
            .is_empty()
    );
    assert!(
        store
            .list_matching(&part("%"), 10)
            .await
            .unwrap()
            .is_empty()
    );
    // By text in the goal (any case) or the id; a run without a goal matches by id only.
    let text = |text: &'static str| switchyard_orchestrator::runlog::RunFilter {
        text: Some(text),
        ..Default::default()
    };
    let listed = store.list_matching(&text("release"), 10).await.unwrap();
    assert_eq!(ids(listed.clone()), ["run-2"]);
    assert_eq!(
        listed[0].goal.as_deref(),
        Some("Summarise the Release notes")
    );
    assert_eq!(
        ids(store.list_matching(&text("run-1"), 10).await.unwrap()),
        ["run-1"]
    );
    assert_eq!(
        ids(store.list_matching(&text("run"), 10).await.unwrap()),
        ["run-2", "run-1"]
    );
    assert!(
        store
            .list_matching(&text("notes_"), 10)
            .await
            .unwrap()
            .is_empty()
    );
    assert_eq!(
        store.project_of("run-1").await.unwrap().as_deref(),
        Some("default")
    );
    assert_eq!(store.project_of("run-9").await.unwrap(), None);
    let compensating = store
        .list(Some(RunStatus::Compensating), None, None, 10)
        .await
        .unwrap();
    assert_eq!(compensating.len(), 1);
    assert_eq!(compensating[0].id, "run-1");
    let stored_seq = store.state("run-1").await.unwrap().last_seq;
    assert_eq!(
        compensating[0].events, stored_seq,
        "the refused stale change added nothing"
    );
    assert!(
        store
            .list(Some(RunStatus::Succeeded), None, None, 10)
            .await
            .unwrap()
            .is_empty()
    );
    assert!(store.awaiting_approval().await.unwrap().is_empty());

    // A change that does not continue its own seq is refused before any SQL.
    let (_, mut bad) = new_run("run-3", 0);
    bad.expected_seq = 4;
    let err = store.commit(&[bad]).await.unwrap_err().to_string();
    assert_eq!(
        err,
        "invalid change for run run-3: first event has seq 1, expected 5"
    );
}

/// Edits the cache behind the store's back; `verify` must notice.
async fn tamper_and_verify(db: &Database, store: &RunLog) {
    let sql = "UPDATE run_steps SET status = 'succeeded' WHERE run_id = 'run-2' AND key = 'b'";
    let changed = match db {
        Database::Sqlite(pool) => sqlx::query(sql)
            .execute(pool)
            .await
            .unwrap()
            .rows_affected(),
        Database::Postgres(pool) => sqlx::query(sql)
            .execute(pool)
            .await
            .unwrap()
            .rows_affected(),
    };
    assert_eq!(changed, 1);
    assert_eq!(
        store.verify("run-2").await.unwrap(),
        Verification::Differs("run_steps differs from the replayed log".into())
    );
}

#[tokio::test]
async fn sqlite_store_records_replays_and_refuses_stale_writers() {
    let dir = tempfile::tempdir().unwrap();
    let db = Database::connect(
        &DatabaseUrl::sqlite(dir.path().join("runs.db")),
        &ConnectOptions::default(),
    )
    .await
    .unwrap();
    exercise(db.clone()).await;
    tamper_and_verify(&db, &RunLog::new(db.clone())).await;
    db.close().await;
}

#[tokio::test]
async fn postgres_store_records_replays_and_refuses_stale_writers() {
    let pg = TempPostgres::create().await;
    let db = Database::connect(
        &DatabaseUrl::parse(&pg.url).unwrap(),
        &ConnectOptions::default(),
    )
    .await
    .unwrap();
    exercise(db.clone()).await;
    tamper_and_verify(&db, &RunLog::new(db.clone())).await;
    db.close().await;
    pg.drop_database().await;
}

#[test]
fn store_futures_can_run_on_any_tokio_worker() {
    fn assert_send<T: Send>(_: &T) {}
    let rt = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap();
    let _guard = rt.enter();
    let pool = sqlx::sqlite::SqlitePoolOptions::new()
        .connect_lazy("sqlite://unused.db")
        .unwrap();
    let store = RunLog::new(Database::Sqlite(pool));
    assert_send(&store.commit(&[]));
    assert_send(&store.verify("x"));
    assert_send(&store.events("x", 0));
}
