//! The CLI against real processes: `switchyard run submit | list | watch` against a server,
//! `switchyard user` / `switchyard audit` on the database, and `switchyard model write-test`.

mod common;

use common::{Server, run};

fn stdout(out: &std::process::Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn stderr(out: &std::process::Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

#[test]
fn submit_watch_and_list_a_run_through_the_server() {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(dir.path(), &[]);
    let url = format!("--server=http://{}", server.addr);
    std::fs::write(
        dir.path().join("plan.json"),
        r#"{"steps": [
            {"key": "first", "agent": "default", "tool": "noop"},
            {"key": "second", "agent": "default", "tool": "fail", "depends_on": ["first"],
             "input": {"succeed_from_attempt": 2}, "retry": {"initial_backoff_ms": 50}}
        ]}"#,
    )
    .unwrap();

    let out = run(dir.path(), &["run", "submit", "plan.json", "--watch", &url]);
    assert!(out.status.success(), "{}", stderr(&out));
    let text = stdout(&out);
    let id = text.lines().next().unwrap().to_owned();
    assert_eq!(id.len(), 36, "a UUID: {text}");
    assert!(
        text.contains(&format!("run {id} succeeded after")),
        "{text}"
    );
    assert!(
        text.contains("second                   succeeded (attempt 2)"),
        "{text}"
    );

    let list = run(dir.path(), &["run", "list", &url]);
    assert!(list.status.success());
    let listed = stdout(&list);
    let row = listed
        .lines()
        .find(|l| l.starts_with(&id))
        .unwrap_or_else(|| panic!("{listed}"));
    assert!(row.contains("succeeded"), "{row}");

    let watch = run(dir.path(), &["run", "watch", &id, &url]);
    assert!(watch.status.success());
}

#[test]
fn refusals_are_one_line_and_exit_non_zero() {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(dir.path(), &[]);
    let url = format!("--server=http://{}", server.addr);
    std::fs::write(
        dir.path().join("bad.json"),
        r#"{"steps": [{"key": "x", "agent": "default", "tool": "teleport"}]}"#,
    )
    .unwrap();
    std::fs::write(dir.path().join("broken.json"), "{\"steps\": [").unwrap();
    std::fs::write(
        dir.path().join("doomed.json"),
        r#"{"steps": [{"key": "x", "agent": "default", "tool": "fail", "input": {"message": "disk full", "retryable": false}}]}"#,
    )
    .unwrap();
    let cases: [(&[&str], &str); 5] = [
        (&["run", "submit", "bad.json"], "unknown tool 'teleport'"),
        (
            &["run", "submit", "broken.json"],
            "broken.json: EOF while parsing",
        ),
        (
            &["run", "submit", "missing.json"],
            "missing.json: No such file or directory",
        ),
        (
            &["run", "watch", "no-such-run"],
            "run no-such-run not found",
        ),
        (
            &["run", "list", "--status", "sideways"],
            "status 'sideways' is not one of",
        ),
    ];
    for (args, expected) in cases {
        let mut args = args.to_vec();
        args.push(&url);
        let out = run(dir.path(), &args);
        let err = stderr(&out);
        assert_eq!(out.status.code(), Some(1), "{args:?}: {err}");
        assert_eq!(err.lines().count(), 1, "{args:?}: {err}");
        assert!(err.contains(expected), "{args:?}: {err}");
    }
    let out = run(
        dir.path(),
        &["run", "submit", "doomed.json", "--watch", &url],
    );
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr(&out).contains("failed: step 'x' failed: disk full"),
        "{}",
        stderr(&out)
    );

    let unreachable = run(dir.path(), &["run", "list", "--server=http://127.0.0.1:1"]);
    assert_eq!(unreachable.status.code(), Some(1));
    assert!(
        stderr(&unreachable).starts_with(
            "switchyard: error: cannot reach the Switchyard server at http://127.0.0.1:1/"
        ),
        "{}",
        stderr(&unreachable)
    );
}

#[test]
fn user_add_takes_the_password_from_stdin_and_audit_verify_catches_an_edit() {
    use std::io::Write as _;
    let dir = tempfile::tempdir().unwrap();
    let add = |email: &str, password: &str| {
        let mut child = common::command(dir.path())
            .args(["user", "add", email, "--role", "admin", "--password-stdin"])
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        writeln!(child.stdin.take().unwrap(), "{password}").unwrap();
        child.wait_with_output().unwrap()
    };
    let out = add("root@example.com", "a long enough password");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stdout).contains("created root@example.com (admin)"));
    // A short password and a duplicate are one line each, exit 1.
    for (email, password, expected) in [
        ("x@example.com", "short", "at least 12 characters"),
        (
            "root@example.com",
            "another long password",
            "already exists",
        ),
    ] {
        let out = add(email, password);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(1), "{stderr}");
        assert!(
            stderr.trim().lines().count() == 1 && stderr.contains(expected),
            "{stderr}"
        );
    }
    let listed = common::run(dir.path(), &["user", "list"]);
    assert!(String::from_utf8_lossy(&listed.stdout).contains("root@example.com"));

    let verified = common::run(dir.path(), &["audit", "verify"]);
    assert!(verified.status.success());
    assert!(String::from_utf8_lossy(&verified.stdout).contains("audit log intact: 1 rows"));
    // Edit the row behind Switchyard's back: verify names it and exits 1.
    let db = dir.path().join("data/switchyard.db");
    let edited = std::process::Command::new("python3")
        .args([
            "-c",
            "import sqlite3,sys; c=sqlite3.connect(sys.argv[1]); \
             c.execute(\"UPDATE audit_log SET actor='someone-else' WHERE seq=1\"); c.commit()",
            db.to_str().unwrap(),
        ])
        .status()
        .unwrap();
    assert!(edited.success());
    let verified = common::run(dir.path(), &["audit", "verify"]);
    assert_eq!(verified.status.code(), Some(1));
    assert!(
        String::from_utf8_lossy(&verified.stderr).contains("audit log row 1 was changed"),
        "{}",
        String::from_utf8_lossy(&verified.stderr)
    );
}

#[test]
fn model_write_test_writes_one_gguf_per_seed_and_names_a_bad_path() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("tiny.gguf");
    let out = run(dir.path(), &["model", "write-test", path.to_str().unwrap()]);
    assert!(out.status.success(), "{}", stderr(&out));
    let bytes = std::fs::metadata(&path).unwrap().len();
    assert!(
        stdout(&out).contains(&format!("{bytes} bytes")),
        "{}",
        stdout(&out)
    );
    assert_eq!(&std::fs::read(&path).unwrap()[..4], b"GGUF");
    // The same seed writes the same file.
    let again = dir.path().join("again.gguf");
    assert!(
        run(
            dir.path(),
            &["model", "write-test", again.to_str().unwrap()]
        )
        .status
        .success()
    );
    assert_eq!(
        std::fs::read(&path).unwrap(),
        std::fs::read(&again).unwrap()
    );
    // Somewhere it cannot write: one line naming the path.
    let out = run(dir.path(), &["model", "write-test", "/no/such/dir/x.gguf"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr(&out).contains("cannot write /no/such/dir/x.gguf"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn switch_off_on_and_list_are_audited() {
    let dir = tempfile::tempdir().unwrap();
    let out = run(
        dir.path(),
        &["switch", "off", "http_tool", "--reason", "incident 7"],
    );
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(stdout(&out).trim(), "http_tool is off: incident 7");
    let listed = stdout(&run(dir.path(), &["switch", "list"]));
    assert!(
        listed.contains("http_tool") && listed.contains("incident 7"),
        "{listed}"
    );
    let out = run(dir.path(), &["switch", "off", "teleport", "--reason", "x"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr(&out).contains("unknown capability 'teleport': expected one of new_runs, http_tool, event_ingest, inference")
    );
    let out = run(dir.path(), &["switch", "off", "new_runs", "--reason", " "]);
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr(&out).contains("--reason must say why"));
    let out = run(dir.path(), &["switch", "on", "http_tool"]);
    assert_eq!(stdout(&out).trim(), "http_tool is on again");
    assert_eq!(
        stdout(&run(dir.path(), &["switch", "list"])).trim(),
        "every capability is on"
    );
    let audit = stdout(&run(dir.path(), &["audit", "list"]));
    assert!(
        audit.contains("switch.off http_tool ok: incident 7"),
        "{audit}"
    );
    assert!(audit.contains("switch.on http_tool ok"), "{audit}");
    assert!(run(dir.path(), &["audit", "verify"]).status.success());
}

#[test]
fn key_create_shows_the_secret_once_and_revoke_is_audited() {
    let dir = tempfile::tempdir().unwrap();
    let out = run(
        dir.path(),
        &[
            "key",
            "create",
            "ci-bot",
            "--scopes",
            "runs:read,runs:write",
            "--rate-per-min",
            "120",
        ],
    );
    assert!(out.status.success(), "{}", stderr(&out));
    let secret = stdout(&out).trim().to_owned();
    assert!(secret.starts_with("sy_"), "{secret}");
    let id = secret["sy_".len()..].split('_').next().unwrap().to_owned();
    let listed = stdout(&run(dir.path(), &["key", "list"]));
    assert!(
        listed.contains(&id) && listed.contains("runs:read,runs:write"),
        "{listed}"
    );
    assert!(!listed.contains(&secret), "the secret is never shown again");
    let out = run(dir.path(), &["key", "create", "x", "--scopes", "root"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr(&out).contains("unknown scope 'root'"));
    assert!(run(dir.path(), &["key", "revoke", &id]).status.success());
    let out = run(dir.path(), &["key", "revoke", &id]);
    assert!(stderr(&out).contains(&format!("no live key with id {id}")));
    assert!(stdout(&run(dir.path(), &["key", "list"])).contains("revoked"));
    let audit = stdout(&run(
        dir.path(),
        &["audit", "list", "--action", "keys.revoke"],
    ));
    assert!(audit.contains(&id), "{audit}");
}

#[tokio::test(flavor = "multi_thread")]
async fn with_auth_required_the_cli_needs_a_token_and_works_with_an_api_key() {
    let dir = tempfile::tempdir().unwrap();
    let out = run(
        dir.path(),
        &["key", "create", "cli", "--scopes", "runs:read,runs:write"],
    );
    let key = stdout(&out).trim().to_owned();
    let server = Server::start_with_env(
        dir.path(),
        &[],
        &[("SWITCHYARD_AUTH_REQUIRED", "true".to_owned())],
    );
    let plan = dir.path().join("plan.json");
    std::fs::write(
        &plan,
        r#"{"steps": [{"key": "a", "agent": "default", "tool": "noop"}]}"#,
    )
    .unwrap();
    let url = server.url("");
    let without = run(
        dir.path(),
        &["--server", &url, "run", "submit", plan.to_str().unwrap()],
    );
    assert_eq!(without.status.code(), Some(1));
    assert!(
        stderr(&without).contains("send Authorization: Bearer"),
        "{}",
        stderr(&without)
    );
    let with = common::command(dir.path())
        .env("SWITCHYARD_TOKEN", &key)
        .args([
            "--server",
            &url,
            "run",
            "submit",
            plan.to_str().unwrap(),
            "--watch",
        ])
        .output()
        .unwrap();
    assert!(with.status.success(), "{}", stderr(&with));
    let (status, _) = server.terminate();
    assert!(status.success());
}
