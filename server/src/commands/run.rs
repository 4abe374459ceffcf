//! `switchyard run …`: submit, list and watch runs through a server's REST API.
//!
//! Every failure is one line: the server unreachable, a refused plan (with every problem, as
//! the server reports them), an unknown run. `run watch` draws one progress line per step on a
//! terminal and prints a plain summary at the end either way, so it reads well in logs too.

use std::collections::HashMap;
use std::io::IsTerminal;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use clap::Subcommand;
use indicatif::{MultiProgress, ProgressBar, ProgressDrawTarget, ProgressStyle};
use serde_json::{Value, json};

use crate::config::Config;

#[derive(Debug, Subcommand)]
pub enum RunCommand {
    /// Submit a plan (a JSON file with "steps") and print the new run's id.
    Submit {
        /// The plan file; `-` reads standard input.
        file: PathBuf,
        /// Higher runs first when steps compete for workers.
        #[arg(long, default_value_t = 0)]
        priority: i32,
        /// Follow the run until it ends, as `run watch` does.
        #[arg(long)]
        watch: bool,
    },
    /// List runs, newest first.
    List {
        /// Only runs with this status (running, succeeded, failed, …).
        #[arg(long)]
        status: Option<String>,
        #[arg(long, default_value_t = 20)]
        limit: u32,
    },
    /// Follow a run live: one progress line per step. Exits 0 if it succeeds, 1 otherwise.
    Watch { id: String },
}

/// How often `watch` polls the run.
const POLL: Duration = Duration::from_millis(250);

pub async fn run(config: &Config, command: RunCommand) -> Result<(), String> {
    let client = Client::new(config.server_url.clone(), config.token.as_ref())?;
    match command {
        RunCommand::Submit {
            file,
            priority,
            watch,
        } => {
            let plan = read_plan(&file)?;
            let created = client
                .send(
                    client
                        .http
                        .post(client.url("runs"))
                        .json(&json!({"plan": plan, "priority": priority})),
                )
                .await?;
            let id = created["id"].as_str().unwrap_or_default().to_owned();
            println!("{id}");
            if watch {
                watch_run(&client, &id).await
            } else {
                Ok(())
            }
        }
        RunCommand::List { status, limit } => {
            let mut query = vec![("limit", limit.to_string())];
            if let Some(status) = status {
                query.push(("status", status));
            }
            let list = client
                .send(client.http.get(client.url("runs")).query(&query))
                .await?;
            println!("{:<36}  {:<18}  {:>6}  UPDATED", "ID", "STATUS", "EVENTS");
            for run in list["runs"].as_array().into_iter().flatten() {
                println!(
                    "{:<36}  {:<18}  {:>6}  {}",
                    run["id"].as_str().unwrap_or_default(),
                    run["status"].as_str().unwrap_or_default(),
                    run["events"].as_u64().unwrap_or(0),
                    run["updated_at"].as_str().unwrap_or_default(),
                );
            }
            Ok(())
        }
        RunCommand::Watch { id } => watch_run(&client, &id).await,
    }
}

struct Client {
    http: reqwest::Client,
    base: url::Url,
}

impl Client {
    /// A client of the server at `base`; with a `token` (`SWITCHYARD_TOKEN`: an API key or
    /// an access token), every request carries it as `Authorization: Bearer`.
    fn new(base: url::Url, token: Option<&crate::config::Secret>) -> Result<Self, String> {
        let mut headers = reqwest::header::HeaderMap::new();
        if let Some(crate::config::Secret(token)) = token {
            let mut value =
                reqwest::header::HeaderValue::from_str(&format!("Bearer {}", token.trim()))
                    .map_err(|_| {
                        "SWITCHYARD_TOKEN holds characters a header cannot carry".to_owned()
                    })?;
            value.set_sensitive(true);
            headers.insert(reqwest::header::AUTHORIZATION, value);
        }
        let http = reqwest::Client::builder()
            .timeout(Duration::from_secs(30))
            .default_headers(headers)
            .build()
            .map_err(|e| format!("cannot build the HTTP client: {e}"))?;
        Ok(Self { http, base })
    }

    fn url(&self, path: &str) -> url::Url {
        self.base
            .join(&format!("api/v1/{path}"))
            .unwrap_or_else(|_| self.base.clone())
    }

    /// Sends the request; a non-2xx answer becomes its error message.
    async fn send(&self, request: reqwest::RequestBuilder) -> Result<Value, String> {
        let response = request.send().await.map_err(|e| {
            format!(
                "cannot reach the Switchyard server at {}: {}",
                self.base,
                root_cause(&e)
            )
        })?;
        let status = response.status();
        let body: Value = response.json().await.unwrap_or(Value::Null);
        if status.is_success() {
            Ok(body)
        } else {
            let message = body["error"]["message"]
                .as_str()
                .map_or_else(|| format!("the server answered {status}"), str::to_owned);
            Err(message)
        }
    }
}

fn root_cause(error: &(dyn std::error::Error + 'static)) -> String {
    let mut cause = error;
    while let Some(next) = cause.source() {
        cause = next;
    }
    cause.to_string()
}

fn read_plan(file: &std::path::Path) -> Result<Value, String> {
    let text = if file.as_os_str() == "-" {
        std::io::read_to_string(std::io::stdin()).map_err(|e| format!("standard input: {e}"))?
    } else {
        std::fs::read_to_string(file).map_err(|e| format!("{}: {e}", file.display()))?
    };
    let plan: Value =
        serde_json::from_str(&text).map_err(|e| format!("{}: {e}", file.display()))?;
    // Accept both a bare plan and a submission body.
    Ok(plan.get("plan").cloned().unwrap_or(plan))
}

async fn watch_run(client: &Client, id: &str) -> Result<(), String> {
    let started = Instant::now();
    let bars = MultiProgress::with_draw_target(if std::io::stderr().is_terminal() {
        ProgressDrawTarget::stderr()
    } else {
        ProgressDrawTarget::hidden()
    });
    let style = ProgressStyle::with_template("{spinner:.cyan} {prefix:<24} {msg}")
        .unwrap_or_else(|_| ProgressStyle::default_spinner());
    let mut by_step: HashMap<String, ProgressBar> = HashMap::new();
    let run = loop {
        let run = client
            .send(client.http.get(client.url(&format!("runs/{id}"))))
            .await?;
        for step in run["steps"].as_array().into_iter().flatten() {
            let key = step["key"].as_str().unwrap_or_default().to_owned();
            let bar = by_step.entry(key.clone()).or_insert_with(|| {
                let bar = bars.add(ProgressBar::new_spinner().with_style(style.clone()));
                bar.set_prefix(key.clone());
                bar.enable_steady_tick(Duration::from_millis(120));
                bar
            });
            bar.set_message(step_line(step));
            if is_final_step(step) && !bar.is_finished() {
                bar.finish();
            }
        }
        let status = run["status"].as_str().unwrap_or_default();
        if matches!(status, "succeeded" | "failed" | "cancelled") {
            break run;
        }
        tokio::time::sleep(POLL).await;
    };
    for bar in by_step.values() {
        bar.finish_and_clear();
    }
    let status = run["status"].as_str().unwrap_or_default();
    println!(
        "run {id} {status} after {:.1}s",
        started.elapsed().as_secs_f64()
    );
    for step in run["steps"].as_array().into_iter().flatten() {
        println!(
            "  {:<24} {}",
            step["key"].as_str().unwrap_or_default(),
            step_line(step)
        );
    }
    match status {
        "succeeded" => Ok(()),
        _ => Err(format!(
            "run {id} {status}: {}",
            run["reason"].as_str().unwrap_or("no reason recorded")
        )),
    }
}

fn step_line(step: &Value) -> String {
    let status = step["status"].as_str().unwrap_or_default();
    let attempt = step["attempt"].as_u64().unwrap_or(0);
    match step["error"].as_str() {
        Some(error) if status == "ready" => format!("retrying after attempt {attempt}: {error}"),
        Some(error) if status != "succeeded" => format!("{status} (attempt {attempt}): {error}"),
        _ if attempt > 0 => format!("{status} (attempt {attempt})"),
        _ => status.to_owned(),
    }
}

fn is_final_step(step: &Value) -> bool {
    matches!(
        step["status"].as_str(),
        Some("succeeded" | "failed" | "skipped" | "compensated")
    )
}
