//! The one typed configuration, loaded once at start-up.
//!
//! Precedence, highest first: command-line flags, then `SWITCHYARD_*` environment variables
//! (both read by clap), then the TOML config file, then defaults. Everything is validated
//! here, before any file is created or socket opened, and every error is one line that names
//! the setting.

use std::fmt::Write as _;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use switchyard_db::{DatabaseUrl, SqliteSync};

use self::args::{GlobalArgs, ServeArgs};

pub mod args;
pub mod inference;
pub mod store;

pub const DEFAULT_LISTEN: &str = "127.0.0.1:3000";
pub const DEFAULT_DATA_DIR: &str = "data";
pub const DEFAULT_CONFIG_FILE: &str = "switchyard.toml";
pub const DEFAULT_SITE_DIR: &str = "target/site";
pub const DEFAULT_LOG_LEVEL: &str = "info";
/// Where `switchyard run …` sends its requests.
pub const DEFAULT_SERVER_URL: &str = "http://127.0.0.1:3000";
/// The SQLite file inside the data dir when no database URL is given.
pub const SQLITE_FILE: &str = "switchyard.db";

/// Every `SWITCHYARD_*` variable the server reads; any other one is a typo and stops start-up.
pub const ENV_VARS: [&str; 24] = [
    "SWITCHYARD_CONFIG",
    "SWITCHYARD_DATA_DIR",
    "SWITCHYARD_DATABASE_URL",
    "SWITCHYARD_SQLITE_SYNCHRONOUS",
    "SWITCHYARD_LOG_FORMAT",
    "SWITCHYARD_LOG_LEVEL",
    "SWITCHYARD_LISTEN",
    "SWITCHYARD_SITE_DIR",
    "SWITCHYARD_SERVER",
    "SWITCHYARD_HTTP_ALLOW_HOSTS",
    "SWITCHYARD_LEASE_TTL_MS",
    "SWITCHYARD_MAX_RUNS",
    "SWITCHYARD_OBJECTS_DIR",
    "SWITCHYARD_OBJECTS_URL",
    "SWITCHYARD_STORE_L2_MAX_AGE_S",
    "SWITCHYARD_STORE_TIER_INTERVAL_MS",
    "SWITCHYARD_STORE_ARCHIVE_AFTER_S",
    "SWITCHYARD_ARCHIVE_KEY",
    "SWITCHYARD_JWT_SECRET",
    "SWITCHYARD_ADMIN_EMAIL",
    "SWITCHYARD_ADMIN_PASSWORD",
    "SWITCHYARD_AUTH_REQUIRED",
    "SWITCHYARD_TOKEN",
    "SWITCHYARD_MODEL",
];

/// Read by the tests, not the server, which ignores them: the binary the end-to-end suite
/// starts, and the switch that rewrites the README's crate table.
pub const TOOLING_ENV_VARS: [&str; 2] = ["SWITCHYARD_BIN", "SWITCHYARD_WRITE_README"];

/// How log lines are written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogFormat {
    /// Readable lines, coloured on a terminal.
    Human,
    /// One JSON object per line, for log shippers.
    Json,
}

impl LogFormat {
    fn parse(s: &str) -> Result<Self, ConfigError> {
        match s {
            "human" => Ok(Self::Human),
            "json" => Ok(Self::Json),
            other => Err(ConfigError::Invalid {
                key: "log_format",
                value: other.to_owned(),
                reason: "expected human or json".into(),
            }),
        }
    }

    fn as_str(self) -> &'static str {
        match self {
            Self::Human => "human",
            Self::Json => "json",
        }
    }
}

/// The effective configuration.
#[derive(Debug, Clone)]
pub struct Config {
    pub listen: SocketAddr,
    pub data_dir: PathBuf,
    pub database: DatabaseUrl,
    pub sqlite_sync: SqliteSync,
    pub log_format: LogFormat,
    pub log_level: String,
    pub site_dir: PathBuf,
    /// The server `switchyard run …` talks to.
    pub server_url: url::Url,
    /// Hosts the `http` tool may reach; empty: any public host.
    pub http_allow_hosts: Vec<String>,
    /// How long a step's lease and this server's claim on its runs last without a heartbeat.
    pub lease_ttl: std::time::Duration,
    /// The most unfinished runs this server's engine owns at once.
    pub max_runs: usize,
    /// The tiered store: objects, policy, write queue, archive key.
    pub store: crate::config::store::StoreSettings,
    /// Models to load and the inference limits.
    pub inference: switchyard_inference::HostSettings,
    /// How goals become plans.
    pub planner: switchyard_planner::PlannerSettings,
    /// The access tokens' signing secret (never printed); `None`: the data dir's generated one.
    pub jwt_secret: Option<Secret>,
    /// Whether `/api/v1` requires credentials (bearer token or API key).
    pub auth_required: bool,
    /// The largest request body accepted, in bytes.
    pub body_limit: usize,
    /// The largest body `POST /api/v1/events` accepts (batches of agent events are bigger).
    pub ingest_body_limit: usize,
    /// The largest table `POST /api/v1/datasets/check` accepts (streamed, staged on disk).
    pub dataset_upload_limit: u64,
    /// What each signed-in user may send to the API (API keys carry their own limits).
    pub user_limits: switchyard_auth::api_keys::Limits,
    /// Other sites' origins allowed to call the API from a browser (CORS), e.g.
    /// `https://ops.example.com`.
    pub cors_allow_origins: Vec<String>,
    /// The file the settings were read from, if any.
    pub config_file: Option<PathBuf>,
    /// The admin to create on a database with no account (`SWITCHYARD_ADMIN_EMAIL` and
    /// `SWITCHYARD_ADMIN_PASSWORD`, both or neither).
    pub first_admin: Option<FirstAdmin>,
    /// What `switchyard run …` sends as its bearer token (`SWITCHYARD_TOKEN`).
    pub token: Option<Secret>,
}

/// A value that must not reach a log or a printout: its `Debug` is `***`.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(pub String);

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("***")
    }
}

/// The first admin, created at start-up on a database with no account (containers, CI).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FirstAdmin {
    pub email: String,
    pub password: Secret,
}

/// The largest `dataset_upload_limit_bytes`: 64 GiB.
const MAX_DATASET_UPLOAD: u64 = 64 << 30;

/// What a printed secret reads as.
pub const REDACTED: &str = "***";

impl Config {
    /// The effective settings in the config file's shape, secrets replaced by `***` and a
    /// database URL's password masked: what `switchyard config` prints.
    pub fn to_file(&self) -> FileConfig {
        let strings = |v: &[String]| Some(v.to_vec());
        let mut file = FileConfig {
            listen: Some(self.listen.to_string()),
            data_dir: Some(self.data_dir.clone()),
            database_url: Some(self.database.display()),
            sqlite_synchronous: Some(self.sqlite_sync.as_str().to_owned()),
            log_format: Some(self.log_format.as_str().to_owned()),
            log_level: Some(self.log_level.clone()),
            site_dir: Some(self.site_dir.clone()),
            server_url: Some(self.server_url.to_string()),
            http_allow_hosts: strings(&self.http_allow_hosts),
            lease_ttl_ms: Some(self.lease_ttl.as_millis() as u64),
            max_runs: Some(self.max_runs),
            auth_required: Some(self.auth_required),
            http_body_limit_bytes: Some(self.body_limit as u64),
            ingest_body_limit_bytes: Some(self.ingest_body_limit as u64),
            dataset_upload_limit_bytes: Some(self.dataset_upload_limit),
            user_rate_per_min: Some(self.user_limits.rate_per_min),
            user_max_concurrency: Some(self.user_limits.max_concurrency),
            cors_allow_origins: strings(&self.cors_allow_origins),
            jwt_secret: self.jwt_secret.as_ref().map(|_| REDACTED.to_owned()),
            ..FileConfig::default()
        };
        self.store.print_into(&mut file);
        crate::config::inference::print_into(&self.inference, &self.planner, &mut file);
        file
    }

    /// [`Config::to_file`] as TOML, loadable again with `--config`.
    pub fn to_toml(&self) -> String {
        let mut out = String::new();
        if let Some(file) = &self.config_file {
            let _ = writeln!(out, "# read from {}", file.display());
        }
        match toml::Table::try_from(self.to_file()) {
            Ok(table) => out.push_str(&table.to_string()),
            // Every field is a string, number, bool or list of them: this cannot fail.
            Err(e) => {
                let _ = writeln!(out, "# cannot print the settings: {e}");
            }
        }
        out
    }
}

/// The config file's keys. Unknown keys are an error: a typo must not be silently ignored.
/// Also the printed form of a [`Config`] ([`Config::to_file`]); unset keys are left out.
#[derive(Debug, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct FileConfig {
    pub listen: Option<String>,
    pub data_dir: Option<PathBuf>,
    pub database_url: Option<String>,
    pub sqlite_synchronous: Option<String>,
    pub log_format: Option<String>,
    pub log_level: Option<String>,
    pub site_dir: Option<PathBuf>,
    pub server_url: Option<String>,
    pub http_allow_hosts: Option<Vec<String>>,
    pub lease_ttl_ms: Option<u64>,
    pub max_runs: Option<usize>,
    pub objects_dir: Option<PathBuf>,
    pub store_l2_max_age_s: Option<u64>,
    pub store_tier_interval_ms: Option<u64>,
    pub store_archive_after_s: Option<u64>,
    pub archive_key: Option<String>,
    pub objects_url: Option<String>,
    pub store_write_queue: Option<u64>,
    pub store_l2_max_bytes: Option<u64>,
    pub store_l3_max_bytes: Option<u64>,
    pub store_l2_retention_s: Option<u64>,
    pub store_l3_retention_s: Option<u64>,
    pub store_l4_retention_s: Option<u64>,
    pub jwt_secret: Option<String>,
    pub http_body_limit_bytes: Option<u64>,
    pub ingest_body_limit_bytes: Option<u64>,
    pub dataset_upload_limit_bytes: Option<u64>,
    pub user_rate_per_min: Option<u32>,
    pub user_max_concurrency: Option<u32>,
    pub auth_required: Option<bool>,
    pub cors_allow_origins: Option<Vec<String>>,
    pub models: Option<Vec<crate::config::inference::FileModel>>,
    pub default_model: Option<String>,
    pub inference_max_concurrent: Option<u64>,
    pub inference_queue: Option<u64>,
    pub inference_max_tokens: Option<u64>,
    pub inference_max_prompt_tokens: Option<u64>,
    pub inference_deadline_s: Option<u64>,
    pub planner_model: Option<String>,
    pub planner_tools: Option<Vec<String>>,
    pub planner_max_attempts: Option<u32>,
    pub planner_max_steps: Option<usize>,
    pub planner_max_tokens: Option<usize>,
    /// Read as f64 (what TOML holds) so a printed threshold reads `0.85`, not f32's widening.
    pub plan_cache_threshold: Option<f64>,
    pub plan_cache_ttl_s: Option<u64>,
    pub plan_cache_entries: Option<usize>,
}

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("config file {path}: {reason}")]
    File { path: String, reason: String },
    #[error("invalid {key} '{value}': {reason}")]
    Invalid {
        key: &'static str,
        value: String,
        reason: String,
    },
    #[error(transparent)]
    Database(#[from] switchyard_db::DbError),
    #[error("unknown environment variable {name} (known: {known})")]
    UnknownEnv { name: String, known: String },
}

/// Loads the configuration for this process: flags and env (through clap), the config file,
/// defaults.
pub fn load(global: &GlobalArgs, serve: &ServeArgs) -> Result<Config, ConfigError> {
    check_env(std::env::vars().map(|(k, _)| k))?;
    let (file, path) = read_file(global.config.as_deref())?;
    resolve(global, serve, file, path)
}

/// Rejects `SWITCHYARD_*` variables that nothing reads.
pub fn check_env(names: impl Iterator<Item = String>) -> Result<(), ConfigError> {
    for name in names {
        let known = ENV_VARS.contains(&name.as_str()) || TOOLING_ENV_VARS.contains(&name.as_str());
        if name.starts_with("SWITCHYARD_") && !known {
            return Err(ConfigError::UnknownEnv {
                name,
                known: ENV_VARS.join(", "),
            });
        }
    }
    Ok(())
}

/// Reads `explicit`, or `./switchyard.toml` if it exists. An explicit file must exist.
pub fn read_file(explicit: Option<&Path>) -> Result<(FileConfig, Option<PathBuf>), ConfigError> {
    let path = match explicit {
        Some(path) => path.to_owned(),
        None if Path::new(DEFAULT_CONFIG_FILE).is_file() => PathBuf::from(DEFAULT_CONFIG_FILE),
        None => return Ok((FileConfig::default(), None)),
    };
    let file_error = |reason: String| ConfigError::File {
        path: path.display().to_string(),
        reason,
    };
    let text = std::fs::read_to_string(&path).map_err(|e| file_error(e.to_string()))?;
    let parsed = parse_file(&text).map_err(file_error)?;
    Ok((parsed, Some(path)))
}

/// Parses config text; the error is one line with the line number.
pub fn parse_file(text: &str) -> Result<FileConfig, String> {
    toml::from_str(text).map_err(|e| {
        let line = e
            .span()
            .map(|span| text[..span.start].matches('\n').count() + 1);
        let message = e.message().replace('\n', " ");
        match line {
            Some(line) => format!("line {line}: {message}"),
            None => message,
        }
    })
}

/// Merges the layers and validates every value.
pub fn resolve(
    global: &GlobalArgs,
    serve: &ServeArgs,
    file: FileConfig,
    config_file: Option<PathBuf>,
) -> Result<Config, ConfigError> {
    // Read before the other settings take their fields out of `file`; checked in order below.
    let data_dir = global
        .data_dir
        .clone()
        .or(file.data_dir.clone())
        .unwrap_or_else(|| PathBuf::from(DEFAULT_DATA_DIR));
    let store = crate::config::store::StoreSettings::resolve(global, serve, &file, &data_dir);
    let inference = crate::config::inference::resolve(serve, &file, &data_dir);
    let planner = crate::config::inference::planner(&file);
    let listen_raw = serve
        .listen
        .clone()
        .or(file.listen)
        .unwrap_or_else(|| DEFAULT_LISTEN.to_owned());
    let listen = listen_raw
        .parse::<SocketAddr>()
        .map_err(|e| ConfigError::Invalid {
            key: "listen",
            value: listen_raw.clone(),
            reason: format!("{e}; expected IP:PORT such as {DEFAULT_LISTEN}"),
        })?;

    if data_dir.as_os_str().is_empty() {
        return Err(ConfigError::Invalid {
            key: "data_dir",
            value: String::new(),
            reason: "must not be empty".into(),
        });
    }

    let database = match global.database_url.clone().or(file.database_url) {
        Some(url) => DatabaseUrl::parse(&url)?,
        None => DatabaseUrl::sqlite(data_dir.join(SQLITE_FILE)),
    };

    let sqlite_sync = match global
        .sqlite_synchronous
        .clone()
        .or(file.sqlite_synchronous)
    {
        Some(raw) => raw.parse().map_err(|reason| ConfigError::Invalid {
            key: "sqlite_synchronous",
            value: raw,
            reason,
        })?,
        None => SqliteSync::default(),
    };

    let log_format = LogFormat::parse(
        global
            .log_format
            .as_deref()
            .or(file.log_format.as_deref())
            .unwrap_or("human"),
    )?;
    let log_level = global
        .log_level
        .clone()
        .or(file.log_level)
        .unwrap_or_else(|| DEFAULT_LOG_LEVEL.to_owned());
    tracing_subscriber::EnvFilter::try_new(&log_level).map_err(|e| ConfigError::Invalid {
        key: "log_level",
        value: log_level.clone(),
        reason: e.to_string(),
    })?;

    let site_dir = serve
        .site_dir
        .clone()
        .or(file.site_dir)
        .unwrap_or_else(|| PathBuf::from(DEFAULT_SITE_DIR));

    let server_raw = global
        .server
        .clone()
        .or(file.server_url)
        .unwrap_or_else(|| DEFAULT_SERVER_URL.to_owned());
    let server_url = url::Url::parse(&server_raw)
        .ok()
        .filter(|u| matches!(u.scheme(), "http" | "https") && u.host().is_some())
        .ok_or_else(|| ConfigError::Invalid {
            key: "server_url",
            value: server_raw.clone(),
            reason: format!("expected an http(s) URL such as {DEFAULT_SERVER_URL}"),
        })?;

    let http_allow_hosts = if serve.http_allow_hosts.is_empty() {
        file.http_allow_hosts.unwrap_or_default()
    } else {
        serve.http_allow_hosts.clone()
    };
    if let Some(empty) = http_allow_hosts.iter().find(|h| h.trim().is_empty()) {
        return Err(ConfigError::Invalid {
            key: "http_allow_hosts",
            value: empty.clone(),
            reason: "a host name must not be empty".into(),
        });
    }
    let lease_ttl_ms = serve.lease_ttl_ms.or(file.lease_ttl_ms).unwrap_or(30_000);
    if !(300..=3_600_000).contains(&lease_ttl_ms) {
        return Err(ConfigError::Invalid {
            key: "lease_ttl_ms",
            value: lease_ttl_ms.to_string(),
            reason: "must be between 300 and 3600000 (one hour)".into(),
        });
    }
    let auth_required = match global.auth_required.as_deref() {
        None => file.auth_required.unwrap_or(true),
        Some("true" | "1") => true,
        Some("false" | "0") => false,
        Some(other) => {
            return Err(ConfigError::Invalid {
                key: "auth_required",
                value: other.to_owned(),
                reason: "expected true or false".into(),
            });
        }
    };
    let jwt_secret = global.jwt_secret.clone().or(file.jwt_secret);
    if let Some(secret) = &jwt_secret
        && secret.len() < switchyard_auth::token::MIN_SECRET_BYTES
    {
        return Err(ConfigError::Invalid {
            key: "jwt_secret",
            value: "***".into(),
            reason: format!(
                "must be at least {} bytes, got {} (or leave it unset: a secret is generated \
                 into the data dir)",
                switchyard_auth::token::MIN_SECRET_BYTES,
                secret.len()
            ),
        });
    }
    let byte_limit = |key: &'static str, value: Option<u64>, default: usize| {
        let limit = value.unwrap_or(default as u64);
        if (1_024..=1_073_741_824).contains(&limit) {
            Ok(limit as usize)
        } else {
            Err(ConfigError::Invalid {
                key,
                value: limit.to_string(),
                reason: "must be between 1024 and 1073741824 (1 GiB)".into(),
            })
        }
    };
    let body_limit = byte_limit(
        "http_body_limit_bytes",
        file.http_body_limit_bytes,
        crate::hardening::DEFAULT_BODY_LIMIT,
    )?;
    let ingest_body_limit = byte_limit(
        "ingest_body_limit_bytes",
        file.ingest_body_limit_bytes,
        crate::hardening::DEFAULT_INGEST_BODY_LIMIT,
    )?;
    let dataset_upload_limit = file
        .dataset_upload_limit_bytes
        .unwrap_or(switchyard_service::datasets::DEFAULT_MAX_UPLOAD_BYTES);
    if !(1_024..=MAX_DATASET_UPLOAD).contains(&dataset_upload_limit) {
        return Err(ConfigError::Invalid {
            key: "dataset_upload_limit_bytes",
            value: dataset_upload_limit.to_string(),
            reason: "must be between 1024 and 68719476736 (64 GiB)".into(),
        });
    }
    let user_limits = switchyard_auth::api_keys::Limits {
        rate_per_min: file.user_rate_per_min.unwrap_or(1_200),
        max_concurrency: file.user_max_concurrency.unwrap_or(32),
    };
    for (key, value) in [
        ("user_rate_per_min", user_limits.rate_per_min),
        ("user_max_concurrency", user_limits.max_concurrency),
    ] {
        if !(1..=1_000_000).contains(&value) {
            return Err(ConfigError::Invalid {
                key,
                value: value.to_string(),
                reason: "must be between 1 and 1000000".into(),
            });
        }
    }
    let cors_allow_origins = file.cors_allow_origins.unwrap_or_default();
    for origin in &cors_allow_origins {
        let parsed = url::Url::parse(origin).ok().filter(|u| {
            matches!(u.scheme(), "http" | "https")
                && u.host().is_some()
                && u.path() == "/"
                && !origin.ends_with('/')
                && u.query().is_none()
        });
        if parsed.is_none() {
            return Err(ConfigError::Invalid {
                key: "cors_allow_origins",
                value: origin.clone(),
                reason: "expected an origin such as https://ops.example.com (scheme, host, \
                         optional port; no path)"
                    .into(),
            });
        }
    }
    let max_runs = serve.max_runs.or(file.max_runs).unwrap_or(2_000);
    if !(1..=1_000_000).contains(&max_runs) {
        return Err(ConfigError::Invalid {
            key: "max_runs",
            value: max_runs.to_string(),
            reason: "must be between 1 and 1000000".into(),
        });
    }

    Ok(Config {
        listen,
        data_dir,
        database,
        sqlite_sync,
        log_format,
        log_level,
        site_dir,
        server_url,
        http_allow_hosts,
        lease_ttl: std::time::Duration::from_millis(lease_ttl_ms),
        max_runs,
        store: store?,
        inference: inference?,
        planner: planner?,
        jwt_secret: jwt_secret.map(Secret),
        auth_required,
        body_limit,
        ingest_body_limit,
        dataset_upload_limit,
        user_limits,
        cors_allow_origins,
        config_file,
        first_admin: match (&global.admin_email, &global.admin_password) {
            (Some(email), Some(password)) => Some(FirstAdmin {
                email: email.clone(),
                password: Secret(password.clone()),
            }),
            _ => None,
        },
        token: global.token.clone().map(Secret),
    })
}

#[cfg(test)]
mod tests;
