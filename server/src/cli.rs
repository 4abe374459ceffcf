//! The command line. `switchyard` alone is `switchyard serve`.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Args, Parser, Subcommand};

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

/// Flags accepted by every subcommand.
#[derive(Debug, Args, Default, Clone)]
pub struct GlobalArgs {
    /// Config file (TOML). Default: ./switchyard.toml if it exists.
    #[arg(long, global = true, env = "SWITCHYARD_CONFIG", value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// Directory for the SQLite database and other local data. Default: ./data
    #[arg(long, global = true, env = "SWITCHYARD_DATA_DIR", value_name = "DIR")]
    pub data_dir: Option<PathBuf>,
    /// sqlite://PATH or postgres://USER@HOST:PORT/DB. Default: sqlite://DATA_DIR/switchyard.db
    #[arg(
        long,
        global = true,
        env = "SWITCHYARD_DATABASE_URL",
        value_name = "URL"
    )]
    pub database_url: Option<String>,
    /// SQLite durability: normal (safe against process crashes) or full (also power loss).
    #[arg(
        long,
        global = true,
        env = "SWITCHYARD_SQLITE_SYNCHRONOUS",
        value_name = "MODE"
    )]
    pub sqlite_synchronous: Option<String>,
    /// Log format: human or json.
    #[arg(
        long,
        global = true,
        env = "SWITCHYARD_LOG_FORMAT",
        value_name = "FORMAT"
    )]
    pub log_format: Option<String>,
    /// Log filter, e.g. info or switchyard_server=debug,info.
    #[arg(
        long,
        global = true,
        env = "SWITCHYARD_LOG_LEVEL",
        value_name = "FILTER"
    )]
    pub log_level: Option<String>,
    /// Server that `switchyard run …` talks to. Default: http://127.0.0.1:3000
    #[arg(long, global = true, env = "SWITCHYARD_SERVER", value_name = "URL")]
    pub server: Option<String>,
    /// Directory for the store's object tier (L3). Default: DATA_DIR/objects
    #[arg(
        long,
        global = true,
        env = "SWITCHYARD_OBJECTS_DIR",
        value_name = "DIR"
    )]
    pub objects_dir: Option<PathBuf>,
    /// The store's objects (L3, L4) in an S3-compatible service instead:
    /// s3://BUCKET[/PREFIX]; credentials, region and endpoint from the AWS_* variables.
    #[arg(
        long,
        global = true,
        env = "SWITCHYARD_OBJECTS_URL",
        value_name = "URL"
    )]
    pub objects_url: Option<String>,
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
}

#[derive(Debug, Subcommand)]
pub enum UserCommand {
    /// Create an account. The password is asked for on the terminal (not echoed), or read
    /// from the first line of standard input with --password-stdin.
    Add {
        email: String,
        /// admin, operator or viewer.
        #[arg(long, default_value = "viewer")]
        role: String,
        #[arg(long)]
        password_stdin: bool,
    },
    /// Every account: email, role, whether disabled.
    List,
}

#[derive(Debug, Subcommand)]
pub enum KeyCommand {
    /// Create a key and print it once (only its hash is kept).
    Create {
        name: String,
        /// Comma-separated: runs:read, runs:write, approve, events:ingest, infer, admin.
        #[arg(long)]
        scopes: String,
        #[arg(long, default_value = "default")]
        project: String,
        /// Requests per minute (a burst may use a minute's worth at once).
        #[arg(long, default_value_t = 600, value_parser = clap::value_parser!(u32).range(1..=1_000_000))]
        rate_per_min: u32,
        /// Requests in flight at once.
        #[arg(long, default_value_t = 8, value_parser = clap::value_parser!(u32).range(1..=10_000))]
        max_concurrency: u32,
    },
    /// Every key: id, name, project, scopes, limits, last use, whether revoked.
    List,
    /// Revoke a key by id, at once.
    Revoke { id: String },
}

#[derive(Debug, Subcommand)]
pub enum SwitchCommand {
    /// Turn CAPABILITY (new_runs, http_tool, event_ingest, inference) off; every refused call
    /// repeats the reason.
    Off {
        capability: String,
        #[arg(long)]
        reason: String,
    },
    /// Turn CAPABILITY back on.
    On { capability: String },
    /// The capabilities that are off, with who and why.
    List,
}

#[derive(Debug, Subcommand)]
pub enum AuditCommand {
    /// Walk the hash chain; exits 1 naming the first edited row or gap.
    Verify,
    /// The newest entries, optionally one actor's or action's.
    List {
        #[arg(long, default_value_t = 50)]
        limit: u32,
        #[arg(long)]
        actor: Option<String>,
        #[arg(long)]
        action: Option<String>,
    },
}

#[derive(Debug, Subcommand)]
pub enum StoreCommand {
    /// Check every stored copy against its hash and repair what can be repaired; exits 1 if
    /// damage is left.
    Verify,
    /// Records, bytes and ages per tier.
    Stats,
    /// Run the configured policy once now (what `serve` does every store_tier_interval_ms):
    /// retention deletes, moves by age and size, removal of emptied objects.
    Maintain,
    /// Bring archived records whose key starts with PREFIX back into SQL (L2).
    Restore { prefix: String },
    /// Seal object-storage segments older than N days into the archive (L4) now; needs
    /// archive_key.
    Archive {
        /// Archive segments created at least this many days ago (0: all of them).
        #[arg(long, default_value_t = 365)]
        older_than_days: u32,
        /// Segments compacted into each archive object.
        #[arg(long, default_value_t = 64, value_parser = clap::value_parser!(u32).range(1..=10_000))]
        segments: u32,
    },
    /// Move records not written for a while from SQL (L2) to object storage (L3) now.
    Tier {
        /// Move what was last written at least this many days ago (0: everything).
        #[arg(long, default_value_t = 7)]
        older_than_days: u32,
        /// Records per object-storage segment.
        #[arg(long, default_value_t = 20_000, value_parser = clap::value_parser!(u32).range(1..=1_000_000))]
        segment_records: u32,
    },
}

#[derive(Debug, Subcommand)]
pub enum BenchCommand {
    /// Engine throughput and enqueue→start latency on SQLite and PostgreSQL, beside a bare
    /// claim-and-complete loop on the same database.
    Orchestrator {
        /// About ten seconds instead of the full run.
        #[arg(long)]
        quick: bool,
        /// PostgreSQL to create a scratch database on.
        /// Default: postgres://postgres@127.0.0.1:5432/test
        #[arg(long, value_name = "URL")]
        postgres: Option<String>,
    },
    /// Pages over real sockets: each from one keep-alive client (p50, p99, req/s) beside a
    /// fresh connection per request, and `/` from ten keep-alive clients beside `/login`.
    Pages {
        /// About ten seconds instead of the full run.
        #[arg(long)]
        quick: bool,
        /// Measure the server at URL (e.g. http://127.0.0.1:3000) instead of starting one.
        #[arg(long, value_name = "URL")]
        url: Option<String>,
    },
    /// The store's L1 hit latency, L2 read latency, batched write throughput and the cost of
    /// checksums (with and without, in the same run), on SQLite.
    Store {
        /// About ten seconds instead of the full run.
        #[arg(long)]
        quick: bool,
    },
    /// Prompt tok/s, decode tok/s and time to first token at 1 and 4 concurrent requests,
    /// through the engine and through the HTTP endpoint.
    Llm {
        /// The GGUF model to measure.
        #[arg(long, value_name = "FILE")]
        model: PathBuf,
        /// A short run (shorter prompt and answers, one round each).
        #[arg(long)]
        quick: bool,
        /// First write a random-weight model of Qwen2.5-0.5B's shape (Q4_K_M) to FILE.
        #[arg(long)]
        write_model: bool,
        /// What activations, attention and the KV cache are computed in: auto (f32 on the
        /// CPU), f32, bf16 or f16.
        #[arg(long, default_value = "auto", value_parser = parse_dtype)]
        dtype: switchyard_inference::ComputeDType,
    },
}

fn parse_dtype(text: &str) -> Result<switchyard_inference::ComputeDType, String> {
    switchyard_inference::ComputeDType::parse(text).ok_or_else(|| {
        format!(
            "{text:?} is not a dtype ({})",
            switchyard_inference::ComputeDType::EXPECTED
        )
    })
}

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

#[derive(Debug, Args, Default, Clone)]
pub struct ServeArgs {
    /// Address to listen on. Default: 127.0.0.1:3000
    #[arg(long, env = "SWITCHYARD_LISTEN", value_name = "ADDR")]
    pub listen: Option<String>,
    /// Built site (WASM, JS, CSS, public files). Default: target/site
    #[arg(long, env = "SWITCHYARD_SITE_DIR", value_name = "DIR")]
    pub site_dir: Option<PathBuf>,
    /// Host the `http` tool may reach, even on a private or loopback address (repeatable;
    /// `*.example.com` for subdomains). With any given, only listed hosts are reachable.
    #[arg(
        long = "http-allow-host",
        env = "SWITCHYARD_HTTP_ALLOW_HOSTS",
        value_delimiter = ',',
        value_name = "HOST"
    )]
    pub http_allow_hosts: Vec<String>,
    /// How long a step's lease, and this server's claim on its runs, last without a
    /// heartbeat, in milliseconds (heartbeats come every third of it). After a crash,
    /// interrupted steps are retried once it runs out. Default: 30000
    #[arg(long, env = "SWITCHYARD_LEASE_TTL_MS", value_name = "MS")]
    pub lease_ttl_ms: Option<u64>,
    /// The most unfinished runs this server works on at once; with several servers on one
    /// PostgreSQL, the rest wait for whichever has room. Default: 2000
    #[arg(long, env = "SWITCHYARD_MAX_RUNS", value_name = "N")]
    pub max_runs: Option<usize>,
    /// How long a record stays in SQL (L2) after its last write before it moves to object
    /// storage (L3), in seconds. Default: 604800 (7 days)
    #[arg(long, env = "SWITCHYARD_STORE_L2_MAX_AGE_S", value_name = "S")]
    pub store_l2_max_age_s: Option<u64>,
    /// How often the server moves what is due from L2 to L3, in milliseconds. Default: 60000
    #[arg(long, env = "SWITCHYARD_STORE_TIER_INTERVAL_MS", value_name = "MS")]
    pub store_tier_interval_ms: Option<u64>,
    /// Archive (L4, encrypted) what has been in object storage this many seconds. Off unless
    /// set; needs archive_key (from SWITCHYARD_ARCHIVE_KEY or the config file).
    #[arg(long, env = "SWITCHYARD_STORE_ARCHIVE_AFTER_S", value_name = "S")]
    pub store_archive_after_s: Option<u64>,
    /// A model to load and make the default: a .gguf file, or a safetensors model directory.
    /// Its id is the file or directory name without extension. Adds to `models` in the
    /// config file.
    #[arg(long, env = "SWITCHYARD_MODEL", value_name = "PATH")]
    pub model: Option<PathBuf>,
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
        Some(Command::Config(_)) => {
            print!("{}", config.to_toml());
            Ok(())
        }
        Some(Command::Migrate) => with_runtime(&config, crate::serve::migrate_only(&config)),
        Some(Command::Run(command)) => with_runtime(&config, crate::client::run(&config, command)),
        Some(Command::Store(command)) => with_runtime(&config, crate::store::run(&config, command)),
        Some(Command::User(command)) => {
            with_runtime(&config, crate::auth_cli::user(&config, command))
        }
        Some(Command::Audit(command)) => {
            with_runtime(&config, crate::auth_cli::audit(&config, command))
        }
        Some(Command::Key(command)) => {
            with_runtime(&config, crate::auth_cli::key(&config, command))
        }
        Some(Command::Switch(command)) => {
            with_runtime(&config, crate::auth_cli::switch(&config, command))
        }
        Some(Command::Bench(BenchCommand::Llm {
            model,
            quick,
            write_model,
            dtype,
        })) => {
            let mut config = config;
            if cli.global.log_level.is_none() && std::env::var_os("SWITCHYARD_LOG_LEVEL").is_none()
            {
                config.log_level = "warn".into();
            }
            with_runtime(
                &config,
                crate::bench::llm::run(&model, quick, write_model, dtype),
            )
        }
        Some(Command::Bench(BenchCommand::Pages { quick, url })) => {
            with_runtime(&config, crate::bench::pages::run(quick, url))
        }
        Some(Command::Bench(BenchCommand::Store { quick })) => {
            with_runtime(&config, crate::bench::store::run(quick))
        }
        Some(Command::Bench(BenchCommand::Orchestrator { quick, postgres })) => {
            // The figures are the output: engine chatter only if asked for.
            let mut config = config;
            if cli.global.log_level.is_none() && std::env::var_os("SWITCHYARD_LOG_LEVEL").is_none()
            {
                config.log_level = "warn".into();
            }
            with_runtime(&config, crate::bench::orchestrator::run(quick, postgres))
        }
        Some(Command::Serve(_)) | None => with_runtime(&config, crate::serve::serve(&config)),
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
