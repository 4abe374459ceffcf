//! The command line. `switchyard` alone is `switchyard serve`.

use std::process::ExitCode;

use clap::{Parser, Subcommand};

use crate::commands::admin::{AuditCommand, KeyCommand, SwitchCommand, UserCommand};
use crate::commands::bench::BenchCommand;
use crate::commands::model::ModelCommand;
use crate::commands::run::RunCommand;
use crate::commands::store::StoreCommand;
use crate::config::args::{GlobalArgs, ServeArgs};
use crate::config::{self, Config};

#[derive(Debug, Parser)]
#[command(
    name = "switchyard",
    version,
    about = "Switchyard: a self-hosted control room for AI-agent work.",
    long_about = "Switchyard: a self-hosted control room for AI-agent work.\n\n\
                  Settings come from flags, then SWITCHYARD_* environment variables, then the \
                  config file (switchyard.toml in the working directory, or --config), then \
                  built-in defaults."
)]
pub struct Cli {
    #[command(flatten)]
    pub global: GlobalArgs,
    /// `serve`'s flags, also accepted without the word `serve` since it is the default.
    #[command(flatten)]
    pub serve: ServeArgs,
    #[command(subcommand)]
    pub command: Option<Command>,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Serve the web app and the API (the default).
    Serve(ServeArgs),
    /// Apply database migrations and exit.
    Migrate,
    /// Print the effective configuration (passwords redacted) and exit.
    Config(ServeArgs),
    /// Submit, list and watch runs on a running server.
    #[command(subcommand)]
    Run(RunCommand),
    /// Check and describe the tiered store on the configured database.
    #[command(subcommand)]
    Store(StoreCommand),
    /// Manage accounts on the configured database.
    #[command(subcommand)]
    User(UserCommand),
    /// Check and read the audit log.
    #[command(subcommand)]
    Audit(AuditCommand),
    /// API keys for machines and external agents.
    #[command(subcommand)]
    Key(KeyCommand),
    /// Kill switches: turn a capability off (or on) for every server on this database, at once.
    #[command(subcommand)]
    Switch(SwitchCommand),
    /// Measure, with printed figures and a baseline from the same run.
    #[command(subcommand)]
    Bench(BenchCommand),
    /// Files for the inference host: the tiny test model.
    #[command(subcommand)]
    Model(ModelCommand),
}

/// Parses the command line, runs the command, and reports failure as one line.
pub fn main() -> ExitCode {
    let cli = Cli::parse();
    match run(cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("switchyard: error: {message}");
            ExitCode::FAILURE
        }
    }
}

fn run(cli: Cli) -> Result<(), String> {
    let serve_args = match &cli.command {
        Some(Command::Serve(args) | Command::Config(args)) => ServeArgs {
            listen: args.listen.clone().or(cli.serve.listen.clone()),
            site_dir: args.site_dir.clone().or(cli.serve.site_dir.clone()),
            http_allow_hosts: if args.http_allow_hosts.is_empty() {
                cli.serve.http_allow_hosts.clone()
            } else {
                args.http_allow_hosts.clone()
            },
            lease_ttl_ms: args.lease_ttl_ms.or(cli.serve.lease_ttl_ms),
            max_runs: args.max_runs.or(cli.serve.max_runs),
            store_l2_max_age_s: args.store_l2_max_age_s.or(cli.serve.store_l2_max_age_s),
            store_tier_interval_ms: args
                .store_tier_interval_ms
                .or(cli.serve.store_tier_interval_ms),
            store_archive_after_s: args
                .store_archive_after_s
                .or(cli.serve.store_archive_after_s),
            model: args.model.clone().or(cli.serve.model.clone()),
        },
        _ => cli.serve.clone(),
    };
    let config = config::load(&cli.global, &serve_args).map_err(|e| e.to_string())?;
    match cli.command {
        Some(Command::Model(command)) => crate::commands::model::run(command),
        Some(Command::Config(_)) => {
            print!("{}", config.to_toml());
            Ok(())
        }
        Some(Command::Migrate) => {
            with_runtime(&config, crate::commands::serve::migrate_only(&config))
        }
        Some(Command::Run(command)) => {
            with_runtime(&config, crate::commands::run::run(&config, command))
        }
        Some(Command::Store(command)) => {
            with_runtime(&config, crate::commands::store::run(&config, command))
        }
        Some(Command::User(command)) => {
            with_runtime(&config, crate::commands::admin::user(&config, command))
        }
        Some(Command::Audit(command)) => {
            with_runtime(&config, crate::commands::admin::audit(&config, command))
        }
        Some(Command::Key(command)) => {
            with_runtime(&config, crate::commands::admin::key(&config, command))
        }
        Some(Command::Switch(command)) => {
            with_runtime(&config, crate::commands::admin::switch(&config, command))
        }
        Some(Command::Bench(BenchCommand::Llm {
            model,
            quick,
            write_model,
            dtype,
        })) => {
            let mut config = config;
            if cli.global.log_level.is_none() {
                config.log_level = "warn".into();
            }
            with_runtime(
                &config,
                crate::commands::bench::llm::run(&model, quick, write_model, dtype),
            )
        }
        Some(Command::Bench(BenchCommand::Chat { model, quick })) => {
            let mut config = config;
            if cli.global.log_level.is_none() {
                config.log_level = "warn".into();
            }
            with_runtime(&config, crate::commands::bench::chat::run(&model, quick))
        }
        Some(Command::Bench(BenchCommand::Ingest { quick })) => {
            with_runtime(&config, crate::commands::bench::ingest::run(quick))
        }
        Some(Command::Bench(BenchCommand::Search { quick, postgres })) => with_runtime(
            &config,
            crate::commands::bench::search::run(quick, postgres),
        ),
        Some(Command::Bench(BenchCommand::Pages { quick, url })) => {
            with_runtime(&config, crate::commands::bench::pages::run(quick, url))
        }
        Some(Command::Bench(BenchCommand::Live { quick })) => {
            // The figures are the output: server chatter only if asked for.
            let mut config = config;
            if cli.global.log_level.is_none() {
                config.log_level = "warn".into();
            }
            with_runtime(&config, crate::commands::bench::live::run(quick))
        }
        Some(Command::Bench(BenchCommand::Store { quick })) => {
            with_runtime(&config, crate::commands::bench::store::run(quick))
        }
        Some(Command::Bench(BenchCommand::Orchestrator { quick, postgres })) => {
            // The figures are the output: engine chatter only if asked for.
            let mut config = config;
            if cli.global.log_level.is_none() {
                config.log_level = "warn".into();
            }
            with_runtime(
                &config,
                crate::commands::bench::orchestrator::run(quick, postgres),
            )
        }
        Some(Command::Serve(_)) | None => {
            with_runtime(&config, crate::commands::serve::serve(&config))
        }
    }
}

fn with_runtime(
    config: &Config,
    work: impl Future<Output = Result<(), String>>,
) -> Result<(), String> {
    crate::telemetry::init(config.log_format, &config.log_level);
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| format!("cannot start the async runtime: {e}"))?
        .block_on(work)
}
