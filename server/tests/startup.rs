//! Start-up and shutdown of the real binary: bad input is one line and leaves nothing behind;
//! good input serves, and SIGTERM shuts down cleanly, on SQLite and on PostgreSQL.

mod common;

use std::net::TcpListener;

use common::{Server, listing, run};
use switchyard_db::testing::TempPostgres;

/// Runs `args` in a fresh directory prepared by `setup`, and checks the failure contract.
fn assert_fails_cleanly(
    setup: impl FnOnce(&std::path::Path),
    args: &[&str],
    expected: &str,
) -> String {
    assert_fails_cleanly_with_env(&[], setup, args, expected)
}

/// [`assert_fails_cleanly`] with extra environment variables.
fn assert_fails_cleanly_with_env(
    env: &[(&str, &str)],
    setup: impl FnOnce(&std::path::Path),
    args: &[&str],
    expected: &str,
) -> String {
    let dir = tempfile::tempdir().unwrap();
    setup(dir.path());
    let before = listing(dir.path());
    let out = common::command(dir.path())
        .envs(env.iter().copied())
        .args(args)
        .output()
        .expect("run switchyard");
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert_eq!(
        out.status.code(),
        Some(1),
        "{args:?} exit code; stderr: {stderr}"
    );
    let lines: Vec<_> = stderr.lines().filter(|l| !l.trim().is_empty()).collect();
    assert_eq!(
        lines.len(),
        1,
        "{args:?} must fail with one line, got: {stderr}"
    );
    assert!(
        lines[0].starts_with("switchyard: error: ") && lines[0].contains(expected),
        "{args:?}: expected {expected:?} in {:?}",
        lines[0]
    );
    assert_eq!(listing(dir.path()), before, "{args:?} left files behind");
    lines[0].to_owned()
}

fn nothing(_: &std::path::Path) {}

#[test]
fn an_unwritable_data_dir_is_named() {
    assert_fails_cleanly(
        |dir| std::fs::write(dir.join("blocker"), b"a file, not a dir").unwrap(),
        &[
            "serve",
            "--listen",
            "127.0.0.1:0",
            "--data-dir",
            "blocker/data",
        ],
        "cannot create data dir 'blocker/data'",
    );
    assert_fails_cleanly(
        |dir| std::fs::write(dir.join("blocker"), b"x").unwrap(),
        &["--listen", "127.0.0.1:0", "--data-dir", "blocker"],
        "data dir 'blocker' exists and is not a directory",
    );
    // An existing directory nobody may write to, root included (tests run as root here, so
    // permission bits would not stop them): the write probe must catch it.
    assert_fails_cleanly(
        nothing,
        &["--listen", "127.0.0.1:0", "--data-dir", "/proc"],
        "data dir '/proc' is not writable",
    );
}

#[test]
fn a_bad_object_store_or_retention_is_named() {
    assert_fails_cleanly(
        nothing,
        &["--listen", "127.0.0.1:0", "--objects-dir", "/proc/objects"],
        "cannot use the object store directory /proc/objects",
    );
    assert_fails_cleanly(
        nothing,
        &["--listen", "127.0.0.1:0", "--store-l2-max-age-s", "0"],
        "invalid store_l2_max_age_s '0'",
    );
    assert_fails_cleanly(
        nothing,
        &["--listen", "127.0.0.1:0", "--store-tier-interval-ms", "5"],
        "invalid store_tier_interval_ms '5'",
    );
    // Archiving without a key is refused, and a bad key is named without being echoed.
    assert_fails_cleanly(
        nothing,
        &["--listen", "127.0.0.1:0", "--store-archive-after-s", "60"],
        "invalid archive_key '': required when store_archive_after_s is set",
    );
    let line = assert_fails_cleanly(
        |dir| {
            std::fs::write(
                dir.join("switchyard.toml"),
                "archive_key = \"c0ffee-secret\"\n",
            )
            .unwrap()
        },
        &["--listen", "127.0.0.1:0"],
        "invalid archive_key '***': expected 64 hex digits",
    );
    assert!(!line.contains("c0ffee"));
    let config = |text: &'static str| {
        move |dir: &std::path::Path| std::fs::write(dir.join("switchyard.toml"), text).unwrap()
    };
    assert_fails_cleanly(
        config("store_l3_max_bytes = 1000000\n"),
        &["--listen", "127.0.0.1:0"],
        "invalid archive_key '': required when store_l3_max_bytes is set",
    );
    assert_fails_cleanly(
        config("store_l4_retention_s = 0\n"),
        &["--listen", "127.0.0.1:0"],
        "invalid store_l4_retention_s '0'",
    );
    assert_fails_cleanly(
        config("store_write_queue = 0\n"),
        &["--listen", "127.0.0.1:0"],
        "invalid store_write_queue '0'",
    );
    assert_fails_cleanly(
        nothing,
        &["--listen", "127.0.0.1:0", "--objects-url", "/tmp/objects"],
        "invalid objects_url '/tmp/objects': expected s3://BUCKET[/PREFIX]",
    );
    assert_fails_cleanly(
        nothing,
        &[
            "--listen",
            "127.0.0.1:0",
            "--objects-url",
            "s3://b",
            "--objects-dir",
            "objects",
        ],
        "set objects_dir or objects_url, not both",
    );
}

#[test]
fn an_unreachable_object_store_is_named_and_nothing_is_left() {
    let started = std::time::Instant::now();
    assert_fails_cleanly_with_env(
        &[
            ("AWS_ENDPOINT", "http://127.0.0.1:1"),
            ("AWS_ACCESS_KEY_ID", "test"),
            ("AWS_SECRET_ACCESS_KEY", "test"),
            ("AWS_REGION", "us-east-1"),
        ],
        nothing,
        &[
            "--listen",
            "127.0.0.1:0",
            "--objects-url",
            "s3://switchyard/a",
        ],
        "cannot use the object store at objects_url s3://switchyard/a",
    );
    assert!(started.elapsed() < std::time::Duration::from_secs(30));
}

#[test]
fn a_malformed_database_url_is_named() {
    assert_fails_cleanly(
        nothing,
        &["--database-url", "mysql://root@localhost/db"],
        "invalid database URL 'mysql://root@localhost/db'",
    );
    let line = assert_fails_cleanly(
        nothing,
        &["--database-url", "postgres://u:hunter2@localhost:port/db"],
        "invalid database URL 'postgres://u:***@localhost:port/db'",
    );
    assert!(!line.contains("hunter2"));
}

#[test]
fn an_unreachable_postgres_is_named_and_no_data_dir_is_left() {
    assert_fails_cleanly(
        nothing,
        &[
            "--listen",
            "127.0.0.1:0",
            "--database-url",
            "postgres://postgres@127.0.0.1:1/test",
        ],
        "cannot connect to PostgreSQL at 127.0.0.1:1/test",
    );
}

#[test]
fn a_port_in_use_is_named() {
    let taken = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = taken.local_addr().unwrap().to_string();
    assert_fails_cleanly(
        nothing,
        &["serve", "--listen", &addr],
        &format!("cannot listen on {addr}"),
    );
}

#[test]
fn bad_config_input_is_named() {
    assert_fails_cleanly(
        |dir| {
            std::fs::write(
                dir.join("switchyard.toml"),
                "data_dir = \"d\"\nlissten = \"x\"\n",
            )
            .unwrap()
        },
        &[],
        "config file switchyard.toml: line 2: unknown field `lissten`",
    );
    assert_fails_cleanly(
        nothing,
        &["--config", "missing.toml"],
        "config file missing.toml: No such file or directory",
    );
    assert_fails_cleanly(
        nothing,
        &["--listen", "nowhere"],
        "invalid listen 'nowhere'",
    );
    assert_fails_cleanly(
        nothing,
        &["--sqlite-synchronous", "off"],
        "invalid sqlite_synchronous 'off'",
    );
    assert_fails_cleanly(
        nothing,
        &["--log-format", "xml"],
        "invalid log_format 'xml'",
    );
}

#[test]
fn an_unknown_switchyard_env_var_is_named() {
    let dir = tempfile::tempdir().unwrap();
    let out = common::command(dir.path())
        .env("SWITCHYARD_LISTN", "127.0.0.1:1")
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr.starts_with("switchyard: error: unknown environment variable SWITCHYARD_LISTN"),
        "{stderr}"
    );
    assert!(listing(dir.path()).is_empty());
}

#[test]
fn help_lists_the_subcommands_and_global_flags() {
    let dir = tempfile::tempdir().unwrap();
    let help = String::from_utf8(run(dir.path(), &["--help"]).stdout).unwrap();
    for word in [
        "serve",
        "migrate",
        "config",
        "--config",
        "--data-dir",
        "--database-url",
    ] {
        assert!(help.contains(word), "--help lacks {word}:\n{help}");
    }
    let serve_help = String::from_utf8(run(dir.path(), &["serve", "--help"]).stdout).unwrap();
    for word in [
        "--listen",
        "--config",
        "--data-dir",
        "--database-url",
        "--log-format",
    ] {
        assert!(
            serve_help.contains(word),
            "serve --help lacks {word}:\n{serve_help}"
        );
    }
}

#[test]
fn settings_layer_flags_over_env_over_file_over_defaults() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("switchyard.toml"),
        "listen = \"127.0.0.1:4001\"\ndata_dir = \"from-file\"\nlog_level = \"debug\"\n",
    )
    .unwrap();
    let out = common::command(dir.path())
        .env("SWITCHYARD_DATA_DIR", "from-env")
        .env("SWITCHYARD_LISTEN", "127.0.0.1:4002")
        .args(["config", "--listen", "127.0.0.1:4003"])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(
        text.contains("listen = \"127.0.0.1:4003\""),
        "flag wins:\n{text}"
    );
    assert!(
        text.contains("data_dir = \"from-env\""),
        "env beats file:\n{text}"
    );
    assert!(
        text.contains("database_url = \"sqlite://from-env/switchyard.db\""),
        "{text}"
    );
    assert!(
        text.contains("log_level = \"debug\""),
        "file beats default:\n{text}"
    );
    assert!(
        text.contains("site_dir = \"target/site\""),
        "default:\n{text}"
    );
    assert!(listing(dir.path()).len() == 1, "config creates nothing");
}

#[test]
fn migrate_creates_and_migrates_the_default_database() {
    let dir = tempfile::tempdir().unwrap();
    let out = run(dir.path(), &["migrate"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let stdout = String::from_utf8(out.stdout).unwrap();
    assert!(
        stdout.contains("sqlite://data/switchyard.db: schema up to date"),
        "{stdout}"
    );
    assert!(dir.path().join("data/switchyard.db").is_file());
}

#[tokio::test(flavor = "multi_thread")]
async fn serves_on_sqlite_and_shuts_down_cleanly_on_sigterm() {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(dir.path(), &["--log-format", "json"]);
    let health: serde_json::Value = reqwest::get(server.url("/api/v1/health"))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(health["status"], "ok");
    assert_eq!(health["database"]["kind"], "sqlite");
    assert_eq!(health["database"]["ok"], true);
    assert_eq!(health["version"], env!("CARGO_PKG_VERSION"));

    let page = reqwest::get(server.url("/")).await.unwrap();
    assert_eq!(page.status(), 200);
    let html = page.text().await.unwrap();
    assert!(html.contains("id=\"orchestrator-panel\""));

    let (status, log) = server.terminate();
    assert!(
        status.success(),
        "exit after SIGTERM: {status:?}; log: {log:#?}"
    );
    assert!(log.iter().any(|l| l.contains("shutting down")), "{log:#?}");
    for line in &log {
        serde_json::from_str::<serde_json::Value>(line)
            .unwrap_or_else(|e| panic!("--log-format json wrote a non-JSON line {line:?}: {e}"));
    }

    // The node row records the clean stop.
    let db = switchyard_db::Database::connect(
        &switchyard_db::DatabaseUrl::sqlite(dir.path().join("data/switchyard.db")),
        &Default::default(),
    )
    .await
    .unwrap();
    let nodes = switchyard_db::nodes::list(&db).await.unwrap();
    assert_eq!(nodes.len(), 1);
    assert!(nodes[0].stopped_at.is_some(), "{nodes:?}");
    db.close().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn serves_on_postgres_with_its_own_migrations() {
    let pg = TempPostgres::create().await;
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(dir.path(), &["--database-url", &pg.url]);
    let response = reqwest::get(server.url("/api/v1/health")).await.unwrap();
    assert_eq!(response.status(), 200);
    let health: serde_json::Value = response.json().await.unwrap();
    assert_eq!(health["database"]["kind"], "postgres");
    assert_eq!(health["database"]["ok"], true);

    let (status, _) = server.terminate();
    assert!(status.success());
    let pool = pg.pool().await;
    let stopped: i64 =
        sqlx::query_scalar("SELECT count(*) FROM nodes WHERE stopped_at IS NOT NULL")
            .fetch_one(&pool)
            .await
            .unwrap();
    assert_eq!(stopped, 1);
    pool.close().await;
    pg.drop_database().await;
}

#[test]
fn a_short_jwt_secret_is_refused_without_being_echoed() {
    let line = assert_fails_cleanly_with_env(
        &[("SWITCHYARD_JWT_SECRET", "hunter2-but-longer")],
        nothing,
        &["--listen", "127.0.0.1:0"],
        "invalid jwt_secret '***': must be at least 32 bytes, got 18",
    );
    assert!(!line.contains("hunter2"));
}

#[tokio::test(flavor = "multi_thread")]
async fn the_first_admin_comes_from_the_environment_and_the_secret_is_generated_once() {
    let dir = tempfile::tempdir().unwrap();
    let env = [
        ("SWITCHYARD_ADMIN_EMAIL", "admin@example.com".to_owned()),
        (
            "SWITCHYARD_ADMIN_PASSWORD",
            "a long enough password".to_owned(),
        ),
    ];
    let server = Server::start_with_env(dir.path(), &[], &env);
    let secret = std::fs::read(dir.path().join("data/jwt.secret")).unwrap();
    assert!(secret.len() >= 32);
    let client = reqwest::Client::new();
    let login = client
        .post(server.url("/api/v1/auth/login"))
        .json(&serde_json::json!({"email": "admin@example.com", "password": "a long enough password"}))
        .send()
        .await
        .unwrap();
    assert_eq!(login.status(), 200);
    let session: serde_json::Value = login.json().await.unwrap();
    assert_eq!(session["user"]["role"], "admin");
    let (status, _) = server.terminate();
    assert!(status.success());

    // A restart keeps the secret, so the token issued before still verifies.
    let server = Server::start_with_env(dir.path(), &[], &env);
    assert_eq!(
        std::fs::read(dir.path().join("data/jwt.secret")).unwrap(),
        secret
    );
    let me = client
        .get(server.url("/api/v1/auth/me"))
        .bearer_auth(session["access_token"].as_str().unwrap())
        .send()
        .await
        .unwrap();
    assert_eq!(me.status(), 200);
    let (status, _) = server.terminate();
    assert!(status.success());
}

#[test]
fn a_malformed_cors_origin_is_named() {
    assert_fails_cleanly(
        |dir| {
            std::fs::write(
                dir.join("switchyard.toml"),
                "cors_allow_origins = [\"https://ops.example.com/app\"]\n",
            )
            .unwrap()
        },
        &["--listen", "127.0.0.1:0"],
        "invalid cors_allow_origins 'https://ops.example.com/app': expected an origin",
    );
}
