//! The real binary with its objects in S3 (moto): when the object store goes away the server
//! keeps serving and health says what is wrong (503, `store.objects.ok: false`, the error);
//! when it comes back, health clears by itself.

mod common;

use std::time::{Duration, Instant};

use common::Server;
use switchyard_db::testing::s3::S3Server;

async fn health(server: &Server) -> (u16, serde_json::Value) {
    let response = reqwest::get(server.url("/api/v1/health")).await.unwrap();
    let status = response.status().as_u16();
    (status, response.json().await.unwrap())
}

/// Polls health until `want` holds, for up to 20 s; the last document.
async fn wait_for(
    server: &Server,
    want: impl Fn(u16, &serde_json::Value) -> bool,
) -> serde_json::Value {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let (status, doc) = health(server).await;
        if want(status, &doc) {
            return doc;
        }
        assert!(
            Instant::now() < deadline,
            "health never changed: {status} {doc}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn an_object_store_outage_shows_in_health_and_clears_when_it_returns() {
    let s3 = S3Server::start();
    let env: Vec<(&str, String)> = s3
        .settings()
        .into_iter()
        .map(|(key, value)| match key {
            "aws_endpoint" => ("AWS_ENDPOINT", value),
            "aws_access_key_id" => ("AWS_ACCESS_KEY_ID", value),
            "aws_secret_access_key" => ("AWS_SECRET_ACCESS_KEY", value),
            "aws_region" => ("AWS_REGION", value),
            _ => ("AWS_ALLOW_HTTP", value),
        })
        .collect();
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start_with_env(
        dir.path(),
        &[
            "--objects-url",
            "s3://switchyard/server",
            "--store-tier-interval-ms",
            "200",
        ],
        &env,
    );
    let (status, doc) = health(&server).await;
    assert_eq!(status, 200, "{doc}");
    assert_eq!(doc["store"]["objects"]["ok"], true);

    let port = s3.stop();
    let doc = wait_for(&server, |status, doc| {
        status == 503 && doc["store"]["objects"]["ok"] == false
    })
    .await;
    assert_eq!(doc["status"], "degraded");
    assert_eq!(doc["database"]["ok"], true, "only the object store is down");
    assert!(
        doc["store"]["objects"]["error"]
            .as_str()
            .is_some_and(|e| !e.is_empty()),
        "{doc}"
    );
    assert!(doc["store"]["objects"]["since_ms"].is_i64());
    // The rest of the server carries on.
    let runs = reqwest::get(server.url("/api/v1/runs")).await.unwrap();
    assert_eq!(runs.status(), 200);

    let _back = S3Server::start_on(port);
    let doc = wait_for(&server, |status, doc| {
        status == 200 && doc["store"]["objects"]["ok"] == true
    })
    .await;
    assert_eq!(doc["store"]["objects"]["error"], serde_json::Value::Null);
    let (status, log) = server.terminate();
    assert!(status.success(), "{log:#?}");
}
