//! The search index (query mode, the top bar): a run is found by a word of one step's output,
//! ranked above a run that mentions it in passing; step errors, datasets and agents' log lines
//! are found too; a caller finds only their projects' things; the same SQL on PostgreSQL.

mod common;

use std::time::Duration;

use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use common::app::{Harness, post_json};
use serde_json::{Value, json};
use switchyard_auth::api_keys::{self, NewKey, Scope};
use switchyard_auth::projects;

fn get(path: &str, bearer: Option<&str>) -> Request<Body> {
    let mut builder = Request::get(path);
    if let Some(bearer) = bearer {
        builder = builder.header(header::AUTHORIZATION, format!("Bearer {bearer}"));
    }
    builder.body(Body::empty()).unwrap()
}

/// Searches until `want` hits come back (the index follows the runs' events).
async fn search_until(h: &Harness, q: &str, bearer: Option<&str>, want: usize) -> Value {
    let mut last = Value::Null;
    for _ in 0..200 {
        let (status, found) = h.json(get(&format!("/api/v1/search?q={q}"), bearer)).await;
        assert_eq!(status, StatusCode::OK, "{found}");
        if found["hits"].as_array().unwrap().len() >= want {
            return found;
        }
        last = found;
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    panic!("'{q}' found fewer than {want}: {last}");
}

async fn run(h: &Harness, project: &str, steps: Value) -> String {
    let (status, created) = h
        .json(post_json(
            "/api/v1/runs",
            &json!({"plan": {"steps": steps}, "project": project}),
        ))
        .await;
    assert_eq!(status, StatusCode::CREATED, "{created}");
    created["id"].as_str().unwrap().to_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn runs_datasets_and_log_lines_are_found_by_relevance_in_their_projects() {
    let mut h = Harness::new().await;
    for name in ["alpha", "beta"] {
        projects::create(&h.db, name, "test").await.unwrap();
    }
    // The word is what one step of `focused` answered; `passing` mentions it once in a long
    // answer; `hidden` is in another project.
    let focused = run(
        &h,
        "alpha",
        json!([
            {"key": "fetch", "agent": "default", "tool": "noop", "input": {"note": "pressure readings collected"}},
            {"key": "inspect", "agent": "default", "tool": "noop", "depends_on": ["fetch"],
             "input": {"finding": "the zephyrine valve leaked; zephyrine seals replaced"}}
        ]),
    )
    .await;
    let long: Vec<String> = (0..150).map(|i| format!("routine{i}")).collect();
    let passing = run(
        &h,
        "alpha",
        json!([{"key": "report", "agent": "default", "tool": "noop",
                "input": {"text": format!("{} zephyrine {}", long[..75].join(" "), long[75..].join(" "))}}]),
    )
    .await;
    let hidden = run(
        &h,
        "beta",
        json!([{"key": "x", "agent": "default", "tool": "noop", "input": {"t": "zephyrine"}}]),
    )
    .await;
    let failing = run(
        &h,
        "alpha",
        json!([{"key": "pump", "agent": "default", "tool": "fail",
                "input": {"message": "pump overheated at station nine", "retryable": false}}]),
    )
    .await;

    let found = search_until(&h, "zephyrine", None, 3).await;
    let hits = found["hits"].as_array().unwrap();
    let hrefs: Vec<&str> = hits.iter().map(|h| h["href"].as_str().unwrap()).collect();
    assert_eq!(hrefs[0], format!("/runs/{focused}"), "{found}");
    assert!(hrefs.contains(&format!("/runs/{passing}").as_str()));
    assert!(
        hrefs.contains(&format!("/runs/{hidden}").as_str()),
        "no sign-in: every project"
    );
    let pos = |id: &str| {
        hrefs
            .iter()
            .position(|h| *h == format!("/runs/{id}"))
            .unwrap()
    };
    assert!(pos(&focused) < pos(&passing));
    assert!(hits[0]["score"].as_f64().unwrap() > hits[pos(&passing)]["score"].as_f64().unwrap());
    // The snippet marks the word where it was found.
    let marked: Vec<&str> = hits[0]["snippet"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["hit"] == true)
        .map(|f| f["text"].as_str().unwrap())
        .collect();
    assert!(marked.contains(&"zephyrine"), "{}", hits[0]);
    assert_eq!(found["words"], json!(["zephyrine"]));

    // A step's error, stemmed ("overheating" finds "overheated"), and a prefix.
    let found = search_until(&h, "overheating", None, 1).await;
    assert_eq!(found["hits"][0]["href"], format!("/runs/{failing}"));
    let found = search_until(&h, "station+ni", None, 1).await;
    assert_eq!(found["hits"][0]["href"], format!("/runs/{failing}"));

    // Agents' log lines and datasets.
    let (status, _) = h
        .json(post_json(
            "/api/v1/events",
            &json!({"project": "alpha", "events": [{"kind": "log", "source": "agent-7", "level": "warn",
                    "message": "disk quota exceeded on node seven"}]}),
        ))
        .await;
    assert_eq!(status, StatusCode::ACCEPTED);
    let found = search_until(&h, "quota", None, 1).await;
    assert_eq!(found["hits"][0]["kind"], "log");
    assert_eq!(found["hits"][0]["title"], "agent-7 · warn");

    let check = h
        .send(
            Request::post("/api/v1/datasets/check?file_name=harvest.csv")
                .header(header::CONTENT_TYPE, "text/csv")
                .body(Body::from("orchard,tonnes\nnorth,3\n"))
                .unwrap(),
        )
        .await;
    assert_eq!(check.0, StatusCode::OK, "{}", check.2);
    let upload = serde_json::from_str::<Value>(&check.2).unwrap()["upload"].clone();
    let (status, written) = h
        .json(post_json(
            "/api/v1/datasets",
            &json!({"upload": upload, "name": "harvest", "project": "alpha"}),
        ))
        .await;
    assert_eq!(status, StatusCode::ACCEPTED, "{written}");
    let found = search_until(&h, "orchard", None, 1).await;
    assert_eq!(found["hits"][0]["kind"], "dataset");
    assert_eq!(
        found["hits"][0]["href"],
        format!("/datasets/{}", written["id"].as_str().unwrap())
    );

    // Runs recorded before the index (here: taken out of it) are indexed at start.
    switchyard_service::query::index::remove(&h.db, &format!("run:{failing}"))
        .await
        .unwrap();
    let (_, gone) = h.json(get("/api/v1/search?q=overheating", None)).await;
    assert_eq!(gone["hits"], json!([]));
    switchyard_service::query::feed::backfill(h.service.clone()).await;
    let found = search_until(&h, "overheating", None, 1).await;
    assert_eq!(found["hits"][0]["href"], format!("/runs/{failing}"));

    // The top bar's search reads the same index.
    let who = switchyard_service::Principal::local_operator(
        h.db.clone(),
        switchyard_service::Client::default(),
        "test".into(),
    );
    let top = h.service.search(&who, "zephyrine").await.unwrap();
    assert_eq!(top[0].href, format!("/runs/{focused}"), "{top:?}");

    // A key of project alpha finds nothing of beta's.
    h.auth.required = true;
    let (_, key) = api_keys::create(
        &h.db,
        &NewKey {
            name: "reader",
            project: "alpha",
            scopes: &[Scope::RunsRead],
            workflows: &[],
            rate_per_min: 10_000,
            max_concurrency: 8,
            created_by: "test",
        },
    )
    .await
    .unwrap();
    let found = search_until(&h, "zephyrine", Some(&key), 2).await;
    let hrefs: Vec<&str> = found["hits"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| h["href"].as_str().unwrap())
        .collect();
    assert_eq!(hrefs.len(), 2, "{found}");
    assert!(!hrefs.contains(&format!("/runs/{hidden}").as_str()));

    // Bad queries name what is wrong; words too short find nothing.
    let (status, refused) = h
        .json(get(
            &format!("/api/v1/search?q={}", "a".repeat(501)),
            Some(&key),
        ))
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{refused}");
    let (status, _) = h.json(get("/api/v1/search?q=x&limit=0", Some(&key))).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    let (status, _) = h.json(get("/api/v1/search", Some(&key))).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    let (_, none) = h.json(get("/api/v1/search?q=%22%2A%28", Some(&key))).await;
    assert_eq!(none["hits"], json!([]));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn on_postgresql_the_index_ranks_marks_and_keeps_to_projects() {
    use switchyard_service::query::index::{self, Document};
    let pg = switchyard_db::testing::TempPostgres::create().await;
    let db = pg.database().await;
    let doc = |key: &str, project: &str, body: &str| Document {
        key: key.into(),
        kind: "run",
        project: project.into(),
        title: format!("Run {key}"),
        body: body.into(),
        href: format!("/runs/{key}"),
    };
    let filler: Vec<String> = (0..150).map(|i| format!("routine{i}")).collect();
    index::put(
        &db,
        &[
            doc(
                "focused",
                "alpha",
                "the zephyrine valve leaked; zephyrine seals replaced",
            ),
            doc(
                "passing",
                "alpha",
                &format!("{} zephyrine", filler.join(" ")),
            ),
            doc("hidden", "beta", "zephyrine"),
            doc("other", "alpha", "nothing to see"),
        ],
    )
    .await
    .unwrap();
    // A second write replaces the first.
    index::put(&db, &[doc("other", "alpha", "pumps overheated")])
        .await
        .unwrap();
    let words = |w: &[&str]| w.iter().map(|s| s.to_string()).collect::<Vec<_>>();
    let alpha = vec!["alpha".to_owned()];
    let found = index::find(&db, &words(&["zephyrine"]), Some(&alpha), 10)
        .await
        .unwrap();
    let keys: Vec<&str> = found.iter().map(|f| f.href.as_str()).collect();
    assert_eq!(keys, ["/runs/focused", "/runs/passing"]);
    assert!(found[0].score > found[1].score);
    let marked = switchyard_protocol::query::fragments(&found[0].snippet);
    assert!(
        marked.iter().any(|f| f.hit && f.text == "zephyrine"),
        "{marked:?}"
    );
    let all = index::find(&db, &words(&["zephyrine"]), None, 10)
        .await
        .unwrap();
    assert_eq!(all.len(), 3);
    let stemmed = index::find(&db, &words(&["overheating"]), Some(&alpha), 10)
        .await
        .unwrap();
    assert_eq!(stemmed.len(), 1);
    let prefix = index::find(&db, &words(&["pum"]), Some(&alpha), 10)
        .await
        .unwrap();
    assert_eq!(prefix.len(), 1);
    index::remove(&db, "other").await.unwrap();
    assert!(
        index::find(&db, &words(&["pumps"]), None, 10)
            .await
            .unwrap()
            .is_empty()
    );
    db.close().await;
    pg.drop_database().await;
}
