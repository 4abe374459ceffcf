//! The store callers use: L1 (memory) over L2 (SQL) over L3 (objects) over L4 (archive),
//! every copy checked before it is served.

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

    /// Writes one record.
    pub async fn put(&self, key: &str, value: &[u8]) -> Result<Written, StoreError> {
        self.put_batch(&[(key, value)]).await
    }

    /// Writes many records in one transaction. The way event, log and metric writers should
    /// call it: a batch per flush, not a call per item. While the database is unreachable
    /// the batch is queued whole (see [`Written::Queued`]) until the queue is full, then
    /// refused whole with [`StoreError::QueueFull`].
    pub async fn put_batch(&self, records: &[(&str, &[u8])]) -> Result<Written, StoreError> {
        let now = now_ms();
        let writes: Vec<l2::Write<'_>> = records
            .iter()
            .map(|(key, value)| (*key, *value, record::hash(value)))
            .collect();
        if self.queue.is_empty() {
            match self.sql(l2::upsert(&self.db, &writes, now).await) {
                Ok(versions) => {
                    for ((key, value, hash), version) in writes.iter().zip(&versions) {
                        self.cache(key, value, *hash, *version, now);
                    }
                    return Ok(Written::Stored(versions));
                }
                Err(StoreError::Unreachable { .. }) => {}
                Err(e) => return Err(e),
            }
        }
        let batch = writes
            .iter()
            .map(|(key, value, hash)| Pending {
                key: (*key).to_owned(),
                value: Arc::from(*value),
                hash: *hash,
                accepted_at_ms: now,
            })
            .collect();
        let depth = self.queue.push(batch).map_err(|()| StoreError::QueueFull {
            limit: self.queue.limit(),
        })?;
        for (key, _, _) in &writes {
            self.l1.invalidate(key);
        }
        self.flush_in_background();
        Ok(Written::Queued { depth })
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

    /// The record: a queued write if one waits, else from L1, L2, L3 or L4, never a copy
    /// that fails its hash. A record found below L2 is promoted to L1. A corrupt copy is
    /// reported and replaced by the newest intact copy in another tier if there is one;
    /// otherwise the read fails with [`StoreError::Corrupt`].
    pub async fn get(&self, key: &str) -> Result<Option<Arc<Record>>, StoreError> {
        if !self.queue.is_empty()
            && let Some(pending) = self.queue.latest(key)
        {
            return Ok(Some(Arc::new(pending.record())));
        }
        if let Some(hit) = self.l1.get(key) {
            return Ok(Some(hit));
        }
        if let Some(stored) = self.sql(l2::read(&self.db, key).await)? {
            if !stored.is_intact() {
                self.report_corrupt(key, "l2");
                return self.repaired_or_corrupt(key, "l2", stored.version).await;
            }
            let stored = Arc::new(stored);
            self.l1.insert(key.to_owned(), stored.clone());
            return Ok(Some(stored));
        }
        for tier in [Tier::L3, Tier::L4] {
            let located = self.sql(l3::locate(&self.db, tier.index(), key).await)?;
            if let Some((object, version)) = located {
                return match self.read_object(tier, key, &object, version).await {
                    Ok(found) => {
                        self.l1.insert(key.to_owned(), found.clone());
                        Ok(Some(found))
                    }
                    Err(StoreError::Corrupt { .. }) => {
                        self.repaired_or_corrupt(key, tier.name(), version).await
                    }
                    Err(e) => Err(e),
                };
            }
        }
        Ok(None)
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

    /// `key` at `version` out of the L3 segment or L4 archive `object` (read, checked and
    /// decoded once, then kept in memory); a copy that is missing or fails its hash is
    /// reported and refused with [`StoreError::Corrupt`].
    pub(crate) async fn read_object(
        &self,
        tier: Tier,
        key: &str,
        object: &Segment,
        version: u64,
    ) -> Result<Arc<Record>, StoreError> {
        let records = match self.decoded(tier, object).await {
            Ok(records) => records,
            Err(StoreError::Corrupt { .. }) => return Err(self.corrupt(key, tier.name())),
            Err(e) => return Err(e),
        };
        match records.get(key) {
            Some(found) if found.version == version && found.is_intact() => Ok(found.clone()),
            _ => Err(self.corrupt(key, tier.name())),
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

    /// Compacts up to `max_segments` L3 segments created before `before_ms` into one sealed
    /// archive object: copy (write it), verify (read it back and open it), then in one
    /// transaction index it and drop the segments; their objects are removed after. Records a
    /// segment holds that the index has moved on from (rewritten, deleted) are left out.
    pub async fn archive(&self, before_ms: i64, max_segments: usize) -> Result<Moved, StoreError> {
        let due =
            self.sql(l3::segments_created_before(&self.db, before_ms, max_segments as i64).await)?;
        self.archive_segments(due).await
    }

    /// Seals `due` into one archive object (see [`Store::archive`]).
    pub(crate) async fn archive_segments(&self, due: Vec<Segment>) -> Result<Moved, StoreError> {
        let key = self.archive_key.as_ref().ok_or(StoreError::NoArchiveKey)?;
        let mut live = Vec::new();
        let mut taken = Vec::new();
        for segment in due {
            let indexed = self.sql(l3::keys_in(&self.db, &segment.id).await)?;
            match self.objects.read_segment(&segment).await {
                Ok(records) => {
                    live.extend(
                        records
                            .into_iter()
                            .filter(|r| indexed.get(&r.key) == Some(&r.version) && r.is_intact())
                            .map(Arc::new),
                    );
                    taken.push(segment);
                }
                // A damaged segment stays where `verify` will find it; never archived.
                Err(L3Error::Damaged { .. }) => {
                    for key in indexed.keys() {
                        self.report_corrupt(key, "l3");
                    }
                }
                Err(e) => return self.obj(Err(e)),
            }
        }
        if taken.is_empty() {
            return Ok(Moved::default());
        }
        let written = self.objects.write_archive(key, &live).await;
        let archive = self.obj(written)?;
        self.sql(l4::commit_archive(&self.db, &archive, &live, &taken, now_ms()).await)?;
        for segment in &taken {
            self.segments.invalidate(&Tier::L3.cache_key(&segment.id));
            self.objects.remove(&segment.path).await;
        }
        Ok(Moved {
            records: live.len() as u64,
            segments: taken.len() as u64,
        })
    }

    /// Brings archived records whose key starts with `prefix` back into L2 at the version
    /// they were archived with; returns how many came back.
    pub async fn restore(&self, prefix: &str) -> Result<u64, StoreError> {
        let mut restored = Vec::new();
        let located =
            self.sql(l3::locate_prefix(&self.db, l4::ARCHIVES, prefix, i64::MAX).await)?;
        for (key, archive, version) in located {
            restored.push(self.read_object(Tier::L4, &key, &archive, version).await?);
        }
        self.sql(l2::reinstate(&self.db, &restored, None).await)?;
        Ok(restored.len() as u64)
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

    /// Moves records last written before `before_ms` from L2 to L3, at most `max` of them, in
    /// segments of up to `per_segment`: copy (write the segment), verify (read it back and
    /// check its hash), then index it and delete the moved versions from L2 in one
    /// transaction. A crash at any point leaves every record in L2 or in an indexed segment,
    /// never neither and never counted twice; at worst an unindexed object is left behind.
    pub async fn tier_down(
        &self,
        before_ms: i64,
        max: usize,
        per_segment: usize,
    ) -> Result<Moved, StoreError> {
        let mut moved = Moved::default();
        while (moved.records as usize) < max {
            let want = per_segment.min(max - moved.records as usize).max(1);
            let due = self.sql(l2::older_than(&self.db, before_ms, want as i64).await)?;
            if due.is_empty() {
                break;
            }
            let mut intact = Vec::with_capacity(due.len());
            for row in due {
                if row.is_intact() {
                    intact.push(Arc::new(row));
                } else {
                    // Left in L2 for `verify`: a corrupt copy is never moved.
                    self.report_corrupt(&row.key, "l2");
                }
            }
            if intact.is_empty() {
                break;
            }
            let written = self.objects.write_segment(&intact).await;
            let segment = self.obj(written)?;
            moved.records +=
                self.sql(l3::commit_move(&self.db, &segment, &intact, now_ms()).await)?;
            moved.segments += 1;
        }
        Ok(moved)
    }

    /// Records whose key starts with `prefix`, in key order (at most `limit`), from every
    /// tier, each checked; a corrupt one is repaired from another tier or fails the scan with
    /// its key rather than being skipped.
    pub async fn scan(&self, prefix: &str, limit: u32) -> Result<Vec<Arc<Record>>, StoreError> {
        let rows = self.sql(l2::scan(&self.db, prefix, i64::from(limit)).await)?;
        let mut found: std::collections::BTreeMap<String, Arc<Record>> = Default::default();
        for row in rows {
            if row.is_intact() {
                found.insert(row.key.clone(), Arc::new(row));
                continue;
            }
            self.report_corrupt(&row.key, "l2");
            if let Some(good) = self
                .repaired_or_corrupt(&row.key, "l2", row.version)
                .await?
            {
                found.insert(row.key.clone(), good);
            }
        }
        // L3 and L4: each segment or archive read and checked once, however many of its
        // records match.
        for tier in [Tier::L3, Tier::L4] {
            let located = self
                .sql(l3::locate_prefix(&self.db, tier.index(), prefix, i64::from(limit)).await)?;
            for (key, object, version) in located {
                if found.contains_key(&key) {
                    continue;
                }
                let record = match self.read_object(tier, &key, &object, version).await {
                    Ok(record) => record,
                    Err(StoreError::Corrupt { .. }) => {
                        match self.repaired_or_corrupt(&key, tier.name(), version).await? {
                            Some(good) => good,
                            None => continue,
                        }
                    }
                    Err(e) => return Err(e),
                };
                found.insert(key, record);
            }
        }
        // Queued writes are the newest of all.
        if !self.queue.is_empty() {
            for pending in self.queue.front(usize::MAX) {
                if pending.key.starts_with(prefix) {
                    found.insert(pending.key.clone(), Arc::new(pending.record()));
                }
            }
        }
        Ok(found.into_values().take(limit as usize).collect())
    }

    /// Removes the record from every tier; whether it existed. Refused while writes wait
    /// for the database (the delete would be overtaken by them).
    pub async fn delete(&self, key: &str) -> Result<bool, StoreError> {
        if !self.queue.is_empty() {
            return Err(StoreError::Unreachable {
                service: "database",
                reason: format!(
                    "{} queued writes must reach it before a delete can",
                    self.queue.len()
                ),
            });
        }
        let in_l2 = self.sql(l2::delete(&self.db, key).await)?;
        let in_l3 = self.sql(l3::forget(&self.db, key).await)?;
        let in_l4 = self.sql(l4::forget(&self.db, key).await)?;
        self.l1.invalidate(key);
        Ok(in_l2 || in_l3 || in_l4)
    }

    /// Appends points to a time series (one transaction for the batch).
    pub async fn append(
        &self,
        series: &str,
        points: &[crate::series::Point],
    ) -> Result<(), crate::series::SeriesError> {
        crate::series::append(&self.db, series, points).await
    }

    /// A time series between `from_ms` and `to_ms` in steps of `step_ms` (≥ 1 s).
    pub async fn query(
        &self,
        series: &str,
        from_ms: i64,
        to_ms: i64,
        step_ms: i64,
    ) -> Result<Vec<crate::series::Bucket>, crate::series::SeriesError> {
        crate::series::query(&self.db, series, from_ms, to_ms, step_ms).await
    }

    /// The most recent point of a time series.
    pub async fn latest(
        &self,
        series: &str,
    ) -> Result<Option<crate::series::Point>, crate::series::SeriesError> {
        crate::series::latest(&self.db, series).await
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
