//! This binary started as a server on a free port with a scratch data dir, for benchmarks
//! that measure through real sockets; killed on drop.

use std::ffi::OsString;
use std::io::BufRead;

pub struct ChildServer {
    child: std::process::Child,
    /// `http://127.0.0.1:PORT`.
    pub base: String,
    _dir: tempfile::TempDir,
}

impl ChildServer {
    /// Starts `switchyard serve --listen 127.0.0.1:0 ARGS…` with sign-in off and returns once
    /// it listens (and, with `wait_for_model`, once its model is ready).
    pub fn start(args: &[OsString], wait_for_model: bool) -> Result<Self, String> {
        let dir = tempfile::tempdir().map_err(|e| e.to_string())?;
        let exe = std::env::current_exe().map_err(|e| e.to_string())?;
        let mut child = std::process::Command::new(exe)
            .current_dir(dir.path())
            .env("SWITCHYARD_AUTH_REQUIRED", "false")
            .env_remove("SWITCHYARD_CONFIG")
            .args(["serve", "--listen", "127.0.0.1:0", "--log-level", "info"])
            .args(args)
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .map_err(|e| format!("cannot start the server: {e}"))?;
        let stderr = child.stderr.take().ok_or("no stderr")?;
        let mut lines = std::io::BufReader::new(stderr).lines();
        let (mut addr, mut ready) = (None, !wait_for_model);
        for line in lines.by_ref() {
            let line = line.map_err(|e| e.to_string())?;
            if let Some(rest) = line.split("listening on http://").nth(1) {
                addr = rest
                    .split(|c: char| c.is_whitespace() || c == '"')
                    .next()
                    .map(str::to_owned);
            }
            if line.contains("model ready") {
                ready = true;
            }
            if line.contains("failed to load") {
                return Err(format!("the server could not load the model: {line}"));
            }
            if addr.is_some() && ready {
                break;
            }
        }
        // Keep draining the log so the server never blocks on a full pipe.
        std::thread::spawn(move || for _ in lines {});
        let addr = addr.ok_or("the server did not report its address")?;
        Ok(Self {
            child,
            base: format!("http://{addr}"),
            _dir: dir,
        })
    }
}

impl Drop for ChildServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
