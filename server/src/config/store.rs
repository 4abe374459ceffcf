//! The store's settings, resolved and checked with the rest of the configuration: where its
//! objects live, the tiering policy, the write queue and the archive key; and opening the
//! store they describe.

use std::path::{Path, PathBuf};
use std::time::Duration;

use switchyard_db::Database;
use switchyard_store::{ArchiveKey, Objects, Policy, Store, StoreConfig};

use crate::config::args::{GlobalArgs, ServeArgs};
use crate::config::{ConfigError, FileConfig};

const DAY_S: u64 = 24 * 3_600;
const HUNDRED_YEARS_S: u64 = 100 * 365 * DAY_S;
/// How long segments stay in L3 before the archive takes them, when archiving is on and
/// `store_archive_after_s` is not set.
const DEFAULT_ARCHIVE_AFTER_S: u64 = 365 * DAY_S;

/// Where L3 and L4 keep their objects.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ObjectsLocation {
    Dir(PathBuf),
    /// `s3://bucket[/prefix]`.
    Url(String),
}

/// Everything the store is opened with.
#[derive(Debug, Clone)]
pub struct StoreSettings {
    pub objects: ObjectsLocation,
    pub policy: Policy,
    /// How often the server runs the policy.
    pub tier_interval: Duration,
    /// Writes held while the database is unreachable.
    pub write_queue: usize,
    /// The archive's key (never printed).
    pub archive_key: Option<ArchiveKey>,
}

fn invalid(key: &'static str, value: impl ToString, reason: &str) -> ConfigError {
    ConfigError::Invalid {
        key,
        value: value.to_string(),
        reason: reason.to_owned(),
    }
}

/// `value` if it lies in `range`, else an error naming `key`.
fn within(
    key: &'static str,
    value: u64,
    range: std::ops::RangeInclusive<u64>,
    reason: &str,
) -> Result<u64, ConfigError> {
    if range.contains(&value) {
        Ok(value)
    } else {
        Err(invalid(key, value, reason))
    }
}

fn seconds(key: &'static str, value: Option<u64>) -> Result<Option<Duration>, ConfigError> {
    value
        .map(|s| {
            within(
                key,
                s,
                1..=HUNDRED_YEARS_S,
                "must be between 1 and 3153600000 (100 years)",
            )
            .map(Duration::from_secs)
        })
        .transpose()
}

fn bytes(key: &'static str, value: Option<u64>) -> Result<Option<u64>, ConfigError> {
    value
        .map(|b| within(key, b, 1..=u64::MAX / 2, "must be at least 1 byte"))
        .transpose()
}

impl StoreSettings {
    /// Reads the store's settings from flags, environment and file (in that order of
    /// precedence), with `data_dir` for the default object directory.
    pub fn resolve(
        global: &GlobalArgs,
        serve: &ServeArgs,
        file: &FileConfig,
        data_dir: &Path,
    ) -> Result<Self, ConfigError> {
        let dir = global.objects_dir.clone().or(file.objects_dir.clone());
        let url = global.objects_url.clone().or(file.objects_url.clone());
        let objects = match (dir, url) {
            (Some(_), Some(url)) => {
                return Err(invalid(
                    "objects_url",
                    url,
                    "set objects_dir or objects_url, not both",
                ));
            }
            (_, Some(url)) => {
                if !url.starts_with("s3://") || url.len() <= "s3://".len() {
                    return Err(invalid(
                        "objects_url",
                        url,
                        "expected s3://BUCKET[/PREFIX] (for a directory, set objects_dir)",
                    ));
                }
                ObjectsLocation::Url(url)
            }
            (Some(dir), None) if dir.as_os_str().is_empty() => {
                return Err(invalid("objects_dir", "", "must not be empty"));
            }
            (Some(dir), None) => ObjectsLocation::Dir(dir),
            (None, None) => ObjectsLocation::Dir(data_dir.join("objects")),
        };

        let l2_max_age_s = within(
            "store_l2_max_age_s",
            serve
                .store_l2_max_age_s
                .or(file.store_l2_max_age_s)
                .unwrap_or(7 * DAY_S),
            1..=HUNDRED_YEARS_S,
            "must be between 1 and 3153600000 (100 years)",
        )?;
        let tier_interval_ms = within(
            "store_tier_interval_ms",
            serve
                .store_tier_interval_ms
                .or(file.store_tier_interval_ms)
                .unwrap_or(60_000),
            100..=86_400_000,
            "must be between 100 and 86400000 (a day)",
        )?;
        let write_queue = within(
            "store_write_queue",
            file.store_write_queue.unwrap_or(10_000),
            1..=10_000_000,
            "must be between 1 and 10000000 writes",
        )? as usize;

        let archive_key = match global.archive_key.clone().or(file.archive_key.clone()) {
            None => None,
            Some(hex) => Some(
                ArchiveKey::from_hex(&hex)
                    .map_err(|reason| invalid("archive_key", "***", &reason))?,
            ),
        };
        let archive_after_s = serve.store_archive_after_s.or(file.store_archive_after_s);
        let l3_max_bytes = bytes("store_l3_max_bytes", file.store_l3_max_bytes)?;
        if archive_key.is_none() {
            let needs_key = if archive_after_s.is_some() {
                Some("store_archive_after_s")
            } else if l3_max_bytes.is_some() {
                Some("store_l3_max_bytes")
            } else {
                None
            };
            if let Some(setting) = needs_key {
                return Err(invalid(
                    "archive_key",
                    "",
                    &format!(
                        "required when {setting} is set (64 hex digits, from \
                         SWITCHYARD_ARCHIVE_KEY or the config file)"
                    ),
                ));
            }
        }
        let archive_after = match (archive_after_s, &archive_key) {
            (Some(s), _) => seconds("store_archive_after_s", Some(s))?,
            (None, Some(_)) => Some(Duration::from_secs(DEFAULT_ARCHIVE_AFTER_S)),
            (None, None) => None,
        };

        Ok(Self {
            objects,
            policy: Policy {
                l2_max_age: Duration::from_secs(l2_max_age_s),
                l2_max_bytes: bytes("store_l2_max_bytes", file.store_l2_max_bytes)?,
                archive_after,
                l3_max_bytes,
                l2_retention: seconds("store_l2_retention_s", file.store_l2_retention_s)?,
                l3_retention: seconds("store_l3_retention_s", file.store_l3_retention_s)?,
                l4_retention: seconds("store_l4_retention_s", file.store_l4_retention_s)?,
            },
            tier_interval: Duration::from_millis(tier_interval_ms),
            write_queue,
            archive_key,
        })
    }

    /// Fills the store's keys of the printed config; the archive key as `***`.
    pub fn print_into(&self, file: &mut FileConfig) {
        match &self.objects {
            ObjectsLocation::Dir(dir) => file.objects_dir = Some(dir.clone()),
            ObjectsLocation::Url(url) => file.objects_url = Some(url.clone()),
        }
        let policy = &self.policy;
        file.store_l2_max_age_s = Some(policy.l2_max_age.as_secs());
        file.store_tier_interval_ms = Some(self.tier_interval.as_millis() as u64);
        file.store_write_queue = Some(self.write_queue as u64);
        file.store_archive_after_s = policy.archive_after.map(|d| d.as_secs());
        file.store_l2_max_bytes = policy.l2_max_bytes;
        file.store_l3_max_bytes = policy.l3_max_bytes;
        file.store_l2_retention_s = policy.l2_retention.map(|d| d.as_secs());
        file.store_l3_retention_s = policy.l3_retention.map(|d| d.as_secs());
        file.store_l4_retention_s = policy.l4_retention.map(|d| d.as_secs());
        file.archive_key = self
            .archive_key
            .as_ref()
            .map(|_| crate::config::REDACTED.to_owned());
    }

    /// The object store, checked: a local directory is written to, a remote store is probed
    /// (write, read back, delete). The error is one line naming the setting.
    pub async fn open_objects(&self) -> Result<Objects, String> {
        match &self.objects {
            ObjectsLocation::Dir(dir) => Objects::local(dir).map_err(|e| e.to_string()),
            ObjectsLocation::Url(url) => {
                let objects = Objects::open(url).map_err(|e| format!("objects_url {url}: {e}"))?;
                objects.probe().await.map_err(|e| {
                    format!("cannot use the object store at objects_url {url}: {e}")
                })?;
                Ok(objects)
            }
        }
    }

    /// The store on `db` and `objects`, as configured.
    pub fn store(&self, db: Database, objects: Objects) -> Store {
        let store = Store::new(
            db,
            objects,
            &StoreConfig {
                write_queue: self.write_queue,
                ..StoreConfig::default()
            },
        );
        match &self.archive_key {
            Some(key) => store.with_archive_key(key.clone()),
            None => store,
        }
    }
}
