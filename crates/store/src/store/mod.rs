//! The store callers use: L1 (memory) over L2 (SQL) over L3 (objects) over L4 (archive),
//! every copy checked before it is served.
//!
//! This file holds the [`Store`], its types and its shared checks (errors counted into health,
//! corrupt copies reported); the work is split three ways, each an `impl Store` of its own:
//! [`write`] (records, deletes, series points), [`read`] (tier by tier, verified, repaired;
//! scans and series queries) and [`moves`] (tiering down, archiving, restoring).

mod moves;
mod read;
mod write;

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use moka::sync::Cache;
use switchyard_db::Database;
use tokio::sync::broadcast;

use crate::health::{self, StoreHealth, Tracker};
use crate::l1::L1;
use crate::l2;
use crate::l3::{self, L3Error, Objects, Segment};
use crate::l4::{self, ArchiveKey};
use crate::queue::{Pending, WriteQueue};
use crate::record::{self, Record};

/// The tiers held in objects, and where each is indexed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Tier {
    L3,
    L4,
}

impl Tier {
    pub(crate) fn index(self) -> l3::Index {
        match self {
            Self::L3 => l3::SEGMENTS,
            Self::L4 => l4::ARCHIVES,
        }
    }

    pub(crate) fn name(self) -> &'static str {
        match self {
            Self::L3 => "l3",
            Self::L4 => "l4",
        }
    }

    /// Where an object of this tier is kept decoded in memory.
    pub(crate) fn cache_key(self, id: &str) -> String {
        format!("{}:{id}", self.name())
    }
}

/// How the store keeps records in memory, and how many writes it holds for an unreachable
/// database.
#[derive(Debug, Clone)]
pub struct StoreConfig {
    /// L1's budget: keys plus values, in bytes.
    pub l1_bytes: u64,
    /// How long a record stays in L1 after it was last written or read from L2.
    pub l1_ttl: Duration,
    /// Writes accepted while the database is unreachable; beyond it writes are refused.
    pub write_queue: usize,
}

impl Default for StoreConfig {
    fn default() -> Self {
        Self {
            l1_bytes: 64 * 1024 * 1024,
            l1_ttl: Duration::from_secs(5 * 60),
            write_queue: 10_000,
        }
    }
}

/// Why a store operation failed.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// Every copy of the record failed its hash check; nothing was served.
    #[error("record '{key}' is corrupt in {tier} and no intact copy is left")]
    Corrupt { key: String, tier: &'static str },
    #[error("the database failed: {0}")]
    Db(#[from] sqlx::Error),
    #[error("object storage failed: {0}")]
    Objects(#[from] object_store::Error),
    /// The database or the object store does not answer now; the store degrades.
    #[error("the {service} is unreachable: {reason}")]
    Unreachable {
        service: &'static str,
        reason: String,
    },
    /// The database is unreachable and the write queue is full.
    #[error(
        "the database is unreachable and {limit} writes already wait for it \
         (store_write_queue); this write was refused"
    )]
    QueueFull { limit: usize },
    /// Archiving, or reading the archive, needs the key.
    #[error("the archive needs a key: set archive_key (64 hex digits)")]
    NoArchiveKey,
}

/// What the store reports as it finds and fixes damage.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StoreEvent {
    /// A copy failed its hash check and was not served.
    CorruptCopy { key: String, tier: &'static str },
    /// A corrupt copy was replaced by the newest intact copy found in another tier.
    Repaired {
        key: String,
        tier: &'static str,
        from: &'static str,
        version: u64,
    },
}

/// Counts, bytes and ages per tier.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Stats {
    pub l1_records: u64,
    pub l1_bytes: u64,
    pub l2_records: u64,
    pub l2_bytes: u64,
    /// Oldest and newest write in L2, milliseconds since the epoch.
    pub l2_oldest_ms: Option<i64>,
    pub l2_newest_ms: Option<i64>,
    pub l3_records: u64,
    pub l3_segments: u64,
    /// Compressed bytes.
    pub l3_bytes: u64,
    pub l3_oldest_ms: Option<i64>,
    pub l4_records: u64,
    pub l4_archives: u64,
    /// Sealed bytes.
    pub l4_bytes: u64,
    pub l4_oldest_ms: Option<i64>,
}

/// What one [`Store::tier_down`] or [`Store::archive`] moved.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Moved {
    pub records: u64,
    pub segments: u64,
}

/// What [`Store::verify`] found.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Verified {
    pub checked: u64,
    pub corrupt: Vec<String>,
    pub repaired: Vec<String>,
}

/// How a write was taken.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Written {
    /// Durable in L2, with these versions (in the order given).
    Stored(Vec<u64>),
    /// The database is unreachable: held in memory, `depth` writes now waiting, and written
    /// (in order) as soon as it answers. Reads see them meanwhile, with version 0.
    Queued { depth: usize },
}

impl Written {
    /// The versions, when the write is durable.
    pub fn versions(&self) -> Option<&[u64]> {
        match self {
            Self::Stored(versions) => Some(versions),
            Self::Queued { .. } => None,
        }
    }
}

/// Checksummed records in memory, SQL and objects. Cheap to clone: clones share everything.
#[derive(Clone)]
pub struct Store {
    pub(crate) db: Database,
    pub(crate) l1: Arc<L1>,
    pub(crate) objects: Objects,
    /// Recently read L3 segments and L4 archives, decoded and checked, by id.
    pub(crate) segments: Cache<String, Arc<HashMap<String, Arc<Record>>>>,
    pub(crate) archive_key: Option<ArchiveKey>,
    events: broadcast::Sender<StoreEvent>,
    pub(crate) queue: Arc<WriteQueue>,
    pub(crate) database_health: Arc<Tracker>,
    pub(crate) objects_health: Arc<Tracker>,
}

impl std::fmt::Debug for Store {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Store").finish_non_exhaustive()
    }
}

pub(crate) fn now_ms() -> i64 {
    chrono::Utc::now().timestamp_millis()
}

impl Store {
    /// A store over a migrated database and an object store for L3 and L4.
    pub fn new(db: Database, objects: Objects, config: &StoreConfig) -> Self {
        let l1 = Arc::new(L1::new(config.l1_bytes, config.l1_ttl));
        Self {
            db,
            l1,
            objects,
            segments: Cache::builder().max_capacity(32).build(),
            archive_key: None,
            events: broadcast::channel(1024).0,
            queue: Arc::new(WriteQueue::new(config.write_queue)),
            database_health: Arc::new(Tracker::new("database")),
            objects_health: Arc::new(Tracker::new("object store")),
        }
    }

    /// Enables the archive (L4) with this key.
    pub fn with_archive_key(mut self, key: ArchiveKey) -> Self {
        self.archive_key = Some(key);
        self
    }

    /// Whether the archive key is set.
    pub fn archives(&self) -> bool {
        self.archive_key.is_some()
    }

    /// Damage found and repairs made, from now on.
    pub fn events(&self) -> broadcast::Receiver<StoreEvent> {
        self.events.subscribe()
    }

    pub(crate) fn report(&self, event: StoreEvent) {
        tracing::warn!(?event, "store integrity");
        let _ = self.events.send(event);
    }

    /// Passes a database result through, noting whether the database answered.
    pub(crate) fn sql<T>(&self, result: Result<T, sqlx::Error>) -> Result<T, StoreError> {
        match result {
            Ok(value) => {
                self.database_health.up();
                Ok(value)
            }
            Err(e) if health::unreachable(&e) => {
                self.database_health.down(&e);
                Err(StoreError::Unreachable {
                    service: "database",
                    reason: e.to_string(),
                })
            }
            Err(e) => Err(StoreError::Db(e)),
        }
    }

    /// Passes an object-store result through, noting whether the object store answered.
    /// Damage is not an outage: it comes back as [`StoreError::Corrupt`] naming the object.
    pub(crate) fn obj<T>(&self, result: Result<T, L3Error>) -> Result<T, StoreError> {
        match result {
            Ok(value) => {
                self.objects_health.up();
                Ok(value)
            }
            Err(L3Error::Objects(e)) => {
                self.objects_health.down(&e);
                Err(StoreError::Unreachable {
                    service: "object store",
                    reason: e.to_string(),
                })
            }
            Err(L3Error::Db(e)) => self.sql(Err(e)),
            Err(L3Error::Damaged { path, .. }) => {
                self.objects_health.up();
                Err(StoreError::Corrupt {
                    key: path,
                    tier: "l3",
                })
            }
            Err(L3Error::Unusable { dir, reason }) => {
                let reason = format!("{dir}: {reason}");
                self.objects_health.down(&reason);
                Err(StoreError::Unreachable {
                    service: "object store",
                    reason,
                })
            }
        }
    }

    /// Whether the database and the object store answer, and what waits for them.
    pub fn health(&self) -> StoreHealth {
        StoreHealth {
            database: self.database_health.state(),
            objects: self.objects_health.state(),
            queued_writes: self.queue.len() as u64,
            queue_limit: self.queue.limit() as u64,
        }
    }

    /// Writes, reads back and deletes a probe object, and records the outcome in
    /// [`Store::health`].
    pub async fn probe_objects(&self) -> Result<(), StoreError> {
        let probed = self.objects.probe().await;
        self.obj(probed)
    }

    fn cache(&self, key: &str, value: &[u8], hash: record::Hash, version: u64, at_ms: i64) {
        self.l1.insert(
            key.to_owned(),
            Arc::new(Record {
                key: key.to_owned(),
                value: Arc::from(value),
                version,
                hash,
                updated_at_ms: at_ms,
            }),
        );
    }

    /// After a corrupt copy of `key` was found in `tier`: the repaired record, or the
    /// corruption error when no intact copy is left anywhere.
    async fn repaired_or_corrupt(
        &self,
        key: &str,
        tier: &'static str,
        version: u64,
    ) -> Result<Option<Arc<Record>>, StoreError> {
        match self.repair(key, tier, version).await? {
            Some(good) => Ok(Some(good)),
            None => Err(StoreError::Corrupt {
                key: key.to_owned(),
                tier,
            }),
        }
    }

    /// The records of an L3 segment or an L4 archive: read, checked (and opened, for the
    /// archive) once, then kept decoded in memory.
    async fn decoded(
        &self,
        tier: Tier,
        object: &Segment,
    ) -> Result<Arc<HashMap<String, Arc<Record>>>, StoreError> {
        let cache_key = tier.cache_key(&object.id);
        if let Some(cached) = self.segments.get(&cache_key) {
            return Ok(cached);
        }
        let read = match tier {
            Tier::L3 => self.objects.read_segment(object).await,
            Tier::L4 => {
                let key = self.archive_key.as_ref().ok_or(StoreError::NoArchiveKey)?;
                self.objects.read_archive(key, object).await
            }
        };
        let records: HashMap<String, Arc<Record>> = self
            .obj(read)?
            .into_iter()
            .map(|r| (r.key.clone(), Arc::new(r)))
            .collect();
        let records = Arc::new(records);
        self.segments.insert(cache_key, records.clone());
        Ok(records)
    }

    pub(crate) fn report_corrupt(&self, key: &str, tier: &'static str) {
        self.report(StoreEvent::CorruptCopy {
            key: key.to_owned(),
            tier,
        });
    }

    fn corrupt(&self, key: &str, tier: &'static str) -> StoreError {
        self.report_corrupt(key, tier);
        StoreError::Corrupt {
            key: key.to_owned(),
            tier,
        }
    }

    /// Counts, bytes and ages per tier.
    pub async fn stats(&self) -> Result<Stats, StoreError> {
        let (l2_records, l2_bytes, l2_oldest_ms, l2_newest_ms) =
            self.sql(l2::stats(&self.db).await)?;
        let (l3_records, l3_segments, l3_bytes, l3_oldest_ms) =
            self.sql(l3::stats(&self.db, l3::SEGMENTS).await)?;
        let (l4_records, l4_archives, l4_bytes, l4_oldest_ms) =
            self.sql(l3::stats(&self.db, l4::ARCHIVES).await)?;
        Ok(Stats {
            l1_records: self.l1.len(),
            l1_bytes: self.l1.bytes(),
            l2_records,
            l2_bytes,
            l2_oldest_ms,
            l2_newest_ms,
            l3_records,
            l3_segments,
            l3_bytes,
            l3_oldest_ms,
            l4_records,
            l4_archives,
            l4_bytes,
            l4_oldest_ms,
        })
    }

    /// Drops L1 and the decoded-segment cache (tests and benchmarks: force reads through
    /// to L2 and L3).
    pub fn clear_l1(&self) {
        self.l1.clear();
        self.segments.invalidate_all();
        self.segments.run_pending_tasks();
    }
}
