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
use serde::de::DeserializeOwned;
use serde_json::Value;
use switchyard_protocol::Plan;
use switchyard_protocol::api::error::ErrorBody;
use switchyard_protocol::api::runs::{RunCreated, RunList, RunView, StepView, SubmitRun};
use switchyard_protocol::status::{RunStatus, StepStatus};

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
            let body = SubmitRun {
                plan: Some(plan),
                priority,
                ..SubmitRun::default()
            };
            let created: RunCreated = client
                .send(client.http.post(client.url("runs")).json(&body))
                .await?;
            let id = created.id;
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
            let list: RunList = client
                .send(client.http.get(client.url("runs")).query(&query))
                .await?;
            println!("{:<36}  {:<18}  {:>6}  UPDATED", "ID", "STATUS", "EVENTS");
            for run in list.runs {
                println!(
                    "{:<36}  {:<18}  {:>6}  {}",
                    run.id,
                    run.status.as_str(),
                    run.events,
                    run.updated_at
                        .to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
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

    /// Sends the request and reads the answer as `T`; a non-2xx answer becomes its error
    /// message, an answer of another shape says so.
    async fn send<T: DeserializeOwned>(
        &self,
        request: reqwest::RequestBuilder,
    ) -> Result<T, String> {
        let response = request.send().await.map_err(|e| {
            format!(
                "cannot reach the Switchyard server at {}: {}",
                self.base,
                root_cause(&e)
            )
        })?;
        let status = response.status();
        let url = response.url().clone();
        let body = response
            .bytes()
            .await
            .map_err(|e| format!("reading the answer from {url}: {}", root_cause(&e)))?;
        if status.is_success() {
            serde_json::from_slice(&body).map_err(|e| {
                format!("the server's answer to {url} is not what this client expects: {e}")
            })
        } else {
            Err(serde_json::from_slice::<ErrorBody>(&body).map_or_else(
                |_| format!("the server answered {status}"),
                |b| b.error.message,
            ))
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

fn read_plan(file: &std::path::Path) -> Result<Plan, String> {
    let text = if file.as_os_str() == "-" {
        std::io::read_to_string(std::io::stdin()).map_err(|e| format!("standard input: {e}"))?
    } else {
        std::fs::read_to_string(file).map_err(|e| format!("{}: {e}", file.display()))?
    };
    let plan: Value =
        serde_json::from_str(&text).map_err(|e| format!("{}: {e}", file.display()))?;
    // Accept both a bare plan and a submission body.
    let plan = plan.get("plan").cloned().unwrap_or(plan);
    serde_json::from_value(plan).map_err(|e| format!("{}: not a plan: {e}", file.display()))
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
        let run: RunView = client
            .send(client.http.get(client.url(&format!("runs/{id}"))))
            .await?;
        for step in &run.steps {
            let key = step.key.clone();
            let bar = by_step.entry(key.clone()).or_insert_with(|| {
                let bar = bars.add(ProgressBar::new_spinner().with_style(style.clone()));
                bar.set_prefix(key.clone());
                bar.enable_steady_tick(Duration::from_millis(120));
                bar
            });
            bar.set_message(step_line(step));
            if step.status.is_final() && !bar.is_finished() {
                bar.finish();
            }
        }
        if run.status.is_final() {
            break run;
        }
        tokio::time::sleep(POLL).await;
    };
    for bar in by_step.values() {
        bar.finish_and_clear();
    }
    let status = run.status;
    println!(
        "run {id} {status} after {:.1}s",
        started.elapsed().as_secs_f64()
    );
    for step in &run.steps {
        println!("  {:<24} {}", step.key, step_line(step));
    }
    match status {
        RunStatus::Succeeded => Ok(()),
        _ => Err(format!(
            "run {id} {status}: {}",
            run.reason.as_deref().unwrap_or("no reason recorded")
        )),
    }
}

fn step_line(step: &StepView) -> String {
    let status = step.status;
    let attempt = step.attempt;
    match step.error.as_deref() {
        Some(error) if status == StepStatus::Ready => {
            format!("retrying after attempt {attempt}: {error}")
        }
        Some(error) if status != StepStatus::Succeeded => {
            format!("{status} (attempt {attempt}): {error}")
        }
        _ if attempt > 0 => format!("{status} (attempt {attempt})"),
        _ => status.to_string(),
    }
}
