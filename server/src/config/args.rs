//! The flags that settings come from: those every subcommand accepts ([`GlobalArgs`]) and
//! `serve`'s ([`ServeArgs`]). Each also reads its `SWITCHYARD_*` variable through clap, so
//! flags and the environment are parsed, checked and documented in one place.

use std::path::PathBuf;

use clap::Args;

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
    /// Whether pages and the API need sign-in: true (the default) or false (everyone is the
    /// local operator, for a single-user laptop).
    #[arg(
        long,
        global = true,
        env = "SWITCHYARD_AUTH_REQUIRED",
        value_name = "BOOL"
    )]
    pub auth_required: Option<String>,
    /// The access tokens' signing secret (at least 32 bytes). Prefer the variable: a flag
    /// shows in the process list.
    #[arg(
        long,
        global = true,
        env = "SWITCHYARD_JWT_SECRET",
        hide_env_values = true,
        value_name = "SECRET"
    )]
    pub jwt_secret: Option<String>,
    /// With --admin-password, on a database with no account: the first admin's email.
    #[arg(
        long,
        global = true,
        env = "SWITCHYARD_ADMIN_EMAIL",
        value_name = "EMAIL"
    )]
    pub admin_email: Option<String>,
    /// The first admin's password (see --admin-email). Prefer the variable.
    #[arg(
        long,
        global = true,
        env = "SWITCHYARD_ADMIN_PASSWORD",
        hide_env_values = true,
        value_name = "PASSWORD"
    )]
    pub admin_password: Option<String>,
    /// The archive tier's key (64 hex digits). Prefer the variable.
    #[arg(
        long,
        global = true,
        env = "SWITCHYARD_ARCHIVE_KEY",
        hide_env_values = true,
        value_name = "HEX"
    )]
    pub archive_key: Option<String>,
    /// What `switchyard run …` sends as `Authorization: Bearer` (an API key or an access
    /// token). Prefer the variable.
    #[arg(
        long,
        global = true,
        env = "SWITCHYARD_TOKEN",
        hide_env_values = true,
        value_name = "TOKEN"
    )]
    pub token: Option<String>,
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
