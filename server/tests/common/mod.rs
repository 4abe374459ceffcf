//! Running the real `switchyard` binary in a scratch working directory.

#![allow(dead_code)] // each test binary uses a different subset

pub mod app;

use std::io::{BufRead, BufReader};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::sync::mpsc;
use std::time::Duration;

pub const BIN: &str = env!("CARGO_BIN_EXE_switchyard");

/// A command for the binary, run in `cwd`, with no inherited `SWITCHYARD_*` settings.
pub fn command(cwd: &Path) -> Command {
    let mut cmd = Command::new(BIN);
    cmd.current_dir(cwd);
    for (name, _) in std::env::vars() {
        if name.starts_with("SWITCHYARD_") {
            cmd.env_remove(name);
        }
    }
    cmd.env("NO_COLOR", "1");
    cmd
}

/// Runs to completion (for commands that should fail fast).
pub fn run(cwd: &Path, args: &[&str]) -> Output {
    command(cwd).args(args).output().expect("run switchyard")
}

/// Every path under `dir`, relative, sorted: to prove a failed start left nothing behind.
pub fn listing(dir: &Path) -> Vec<PathBuf> {
    fn walk(root: &Path, dir: &Path, out: &mut Vec<PathBuf>) {
        for entry in std::fs::read_dir(dir).unwrap().flatten() {
            let path = entry.path();
            out.push(path.strip_prefix(root).unwrap().to_owned());
            if path.is_dir() {
                walk(root, &path, out);
            }
        }
    }
    let mut out = Vec::new();
    walk(dir, dir, &mut out);
    out.sort();
    out
}

/// A running server; killed on drop if the test did not stop it.
pub struct Server {
    pub child: Child,
    pub addr: SocketAddr,
    pub log: mpsc::Receiver<String>,
}

impl Server {
    /// Starts `switchyard serve --listen 127.0.0.1:0 ARGS…` and waits for its address.
    pub fn start(cwd: &Path, args: &[&str]) -> Self {
        Self::start_with_env(cwd, args, &[])
    }

    /// [`Server::start`] with extra environment variables. Sign-in is off unless `env` turns
    /// it on (`SWITCHYARD_AUTH_REQUIRED=true`): these servers test the engine, the store and
    /// the CLI; the tests of identity and access turn it on.
    pub fn start_with_env(cwd: &Path, args: &[&str], env: &[(&str, String)]) -> Self {
        let mut child = command(cwd)
            .env("SWITCHYARD_AUTH_REQUIRED", "false")
            .envs(env.iter().map(|(k, v)| (*k, v.as_str())))
            .arg("serve")
            .args(["--listen", "127.0.0.1:0"])
            .args(args)
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("spawn switchyard");
        let stderr = child.stderr.take().unwrap();
        let (tx, rx) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                if tx.send(line).is_err() {
                    break;
                }
            }
        });
        let mut seen = Vec::new();
        let addr = loop {
            let line = rx
                .recv_timeout(Duration::from_secs(30))
                .unwrap_or_else(|_| panic!("server did not report its address; log: {seen:#?}"));
            if let Some(rest) = line.split("listening on http://").nth(1) {
                let addr = rest
                    .split(|c: char| c.is_whitespace() || c == '"')
                    .next()
                    .unwrap();
                break addr.parse().unwrap();
            }
            seen.push(line);
        };
        Self {
            child,
            addr,
            log: rx,
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }

    /// Sends SIGTERM and returns the exit status and the rest of the log.
    pub fn terminate(mut self) -> (std::process::ExitStatus, Vec<String>) {
        let pid = self.child.id().to_string();
        let sent = Command::new("kill").args(["-TERM", &pid]).status().unwrap();
        assert!(sent.success());
        let status = self.child.wait().unwrap();
        let rest = self.log.try_iter().collect();
        (status, rest)
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
