//! The store callers use: L1 (memory) over L2 (SQL), every copy checked.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use moka::sync::Cache;
use switchyard_db::Database;
use tokio::sync::broadcast;

use crate::l2;
use crate::l3::{self, L3Error, Objects, Segment};
use crate::l4::{self, ArchiveKey};
use crate::record::{self, Record};

/// The tiers held in objects, and where each is indexed.
#[derive(Debug, Clone, Copy)]
enum Tier {
    L3,
    L4,
}

impl Tier {
    fn index(self) -> l3::Index {
        match self {
            Self::L3 => l3::SEGMENTS,
            Self::L4 => l4::ARCHIVES,
        }
    }

    fn name(self) -> &'static str {
        match self {
            Self::L3 => "l3",
            Self::L4 => "l4",
        }
    }
}

/// How the store keeps records in memory.
#[derive(Debug, Clone)]
pub struct StoreConfig {
    /// L1's budget: keys plus values, in bytes.
    pub l1_bytes: u64,
    /// How long a record stays in L1 after it was last written or read from L2.
    pub l1_ttl: Duration,
}

impl Default for StoreConfig {
    fn default() -> Self {
        Self {
            l1_bytes: 64 * 1024 * 1024,
            l1_ttl: Duration::from_secs(5 * 60),
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
    /// Archiving, or reading the archive, needs the key.
    #[error("the archive needs a key: set archive_key (64 hex digits)")]
    NoArchiveKey,
}

impl From<L3Error> for StoreError {
    fn from(e: L3Error) -> Self {
        match e {
            L3Error::Objects(e) => Self::Objects(e),
            L3Error::Db(e) => Self::Db(e),
            L3Error::Damaged { path, .. } => Self::Corrupt {
                key: path,
                tier: "l3",
            },
            L3Error::Unusable { dir, reason } => Self::Objects(object_store::Error::Generic {
                store: "local",
                source: format!("{dir}: {reason}").into(),
            }),
        }
    }
}

/// What the store reports as it finds and fixes damage.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StoreEvent {
    /// A copy failed its hash check and was not served.
    CorruptCopy { key: String, tier: &'static str },
    /// A corrupt copy was rewritten from a good one.
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
}

/// What one [`Store::tier_down`] moved.
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

/// Checksummed records in memory and SQL. Cheap to clone.
#[derive(Clone)]
pub struct Store {
    db: Database,
    l1: Cache<String, Arc<Record>>,
    objects: Objects,
    /// Recently read L3 segments, decoded and checked, by segment id.
    segments: Cache<String, Arc<HashMap<String, Arc<Record>>>>,
    archive_key: Option<ArchiveKey>,
    events: broadcast::Sender<StoreEvent>,
}

impl std::fmt::Debug for Store {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Store").finish_non_exhaustive()
    }
}

fn now_ms() -> i64 {
    chrono::Utc::now().timestamp_millis()
}

impl Store {
    /// A store over a migrated database and an object store for L3.
    pub fn new(db: Database, objects: Objects, config: &StoreConfig) -> Self {
        let l1 = Cache::builder()
            .max_capacity(config.l1_bytes)
            .weigher(|key: &String, record: &Arc<Record>| {
                u32::try_from(key.len() + record.value.len() + 64).unwrap_or(u32::MAX)
            })
            .time_to_live(config.l1_ttl)
            .build();
        Self {
            db,
            l1,
            objects,
            segments: Cache::builder().max_capacity(32).build(),
            archive_key: None,
            events: broadcast::channel(1024).0,
        }
    }

    /// Enables the archive (L4) with this key.
    pub fn with_archive_key(mut self, key: ArchiveKey) -> Self {
        self.archive_key = Some(key);
        self
    }

    /// Damage found and repairs made, from now on.
    pub fn events(&self) -> broadcast::Receiver<StoreEvent> {
        self.events.subscribe()
    }

    fn report(&self, event: StoreEvent) {
        tracing::warn!(?event, "store integrity");
        let _ = self.events.send(event);
    }

    /// Writes one record; returns its new version.
    pub async fn put(&self, key: &str, value: &[u8]) -> Result<u64, StoreError> {
        Ok(self.put_batch(&[(key, value)]).await?[0])
    }

    /// Writes many records in one transaction; returns their versions, in order. The way
    /// event, log and metric writers should call it: a batch per flush, not a call per item.
    pub async fn put_batch(&self, records: &[(&str, &[u8])]) -> Result<Vec<u64>, StoreError> {
        let now = now_ms();
        let writes: Vec<l2::Write<'_>> = records
            .iter()
            .map(|(key, value)| (*key, *value, record::hash(value)))
            .collect();
        let versions = l2::upsert(&self.db, &writes, now).await?;
        for ((key, value, hash), version) in writes.iter().zip(&versions) {
            self.l1.insert(
                (*key).to_owned(),
                Arc::new(Record {
                    key: (*key).to_owned(),
                    value: Arc::from(*value),
                    version: *version,
                    hash: *hash,
                    updated_at_ms: now,
                }),
            );
        }
        Ok(versions)
    }

    /// The record, from L1, else L2, else L3, never a copy that fails its hash. A record
    /// found in L3 is promoted to L1. A corrupt copy is reported and the read fails with
    /// [`StoreError::Corrupt`] (a good copy in L1 would have been served first; `verify`
    /// repairs what it can).
    pub async fn get(&self, key: &str) -> Result<Option<Arc<Record>>, StoreError> {
        if let Some(hit) = self.l1.get(key) {
            return Ok(Some(hit));
        }
        if let Some(stored) = l2::read(&self.db, key).await? {
            if !stored.is_intact() {
                return Err(self.corrupt(key, "l2"));
            }
            let stored = Arc::new(stored);
            self.l1.insert(key.to_owned(), stored.clone());
            return Ok(Some(stored));
        }
        for tier in [Tier::L3, Tier::L4] {
            if let Some((object, version)) = l3::locate(&self.db, tier.index(), key).await? {
                let found = self.read_object(tier, key, &object, version).await?;
                self.l1.insert(key.to_owned(), found.clone());
                return Ok(Some(found));
            }
        }
        Ok(None)
    }

    /// `key` at `version` out of the L3 segment or L4 archive `object` (read, checked and
    /// decoded once, then kept in memory); a copy that is missing or fails its hash is
    /// reported and refused.
    async fn read_object(
        &self,
        tier: Tier,
        key: &str,
        object: &Segment,
        version: u64,
    ) -> Result<Arc<Record>, StoreError> {
        let records = match tier {
            Tier::L3 => self.segment(object).await,
            Tier::L4 => self.archive_records(object).await,
        };
        let records = match records {
            Ok(records) => records,
            Err(StoreError::Corrupt { .. }) => return Err(self.corrupt(key, tier.name())),
            Err(e) => return Err(e),
        };
        match records.get(key) {
            Some(found) if found.version == version && found.is_intact() => Ok(found.clone()),
            _ => Err(self.corrupt(key, tier.name())),
        }
    }

    /// An archive's records, opened and checked once, then kept decoded like a segment.
    async fn archive_records(
        &self,
        archive: &l4::Archive,
    ) -> Result<Arc<HashMap<String, Arc<Record>>>, StoreError> {
        let cache_key = format!("archive:{}", archive.id);
        if let Some(cached) = self.segments.get(&cache_key) {
            return Ok(cached);
        }
        let key = self.archive_key.as_ref().ok_or(StoreError::NoArchiveKey)?;
        let records: HashMap<String, Arc<Record>> = self
            .objects
            .read_archive(key, archive)
            .await?
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
        let key = self.archive_key.as_ref().ok_or(StoreError::NoArchiveKey)?;
        let due = l3::segments_created_before(&self.db, before_ms, max_segments as i64).await?;
        let mut live = Vec::new();
        let mut taken = Vec::new();
        for segment in due {
            let indexed = l3::keys_in(&self.db, &segment.id).await?;
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
                        self.report(StoreEvent::CorruptCopy {
                            key: key.clone(),
                            tier: "l3",
                        });
                    }
                }
                Err(e) => return Err(e.into()),
            }
        }
        if taken.is_empty() {
            return Ok(Moved::default());
        }
        // A record rewritten since it left L2 has its newest copy there: the old one is not
        // worth keeping.
        let keys: Vec<&str> = live.iter().map(|r| r.key.as_str()).collect();
        let superseded = l2::present(&self.db, &keys).await?;
        live.retain(|r| !superseded.contains(&r.key));
        let archive = self.objects.write_archive(key, &live).await?;
        l4::commit_archive(&self.db, &archive, &live, &taken, now_ms()).await?;
        for segment in &taken {
            self.segments.invalidate(&segment.id);
            self.objects.remove(&segment.path).await;
        }
        Ok(Moved {
            records: live.len() as u64,
            segments: taken.len() as u64,
        })
    }

    /// Brings archived records whose key starts with `prefix` back into L2 at the version
    /// they were archived with (a newer L2 copy, if any, is kept); returns how many came back.
    pub async fn restore(&self, prefix: &str) -> Result<u64, StoreError> {
        let mut restored = Vec::new();
        for (key, archive, version) in
            l3::locate_prefix(&self.db, l4::ARCHIVES, prefix, i64::MAX).await?
        {
            restored.push(self.read_object(Tier::L4, &key, &archive, version).await?);
        }
        l2::insert_restored(&self.db, &restored).await?;
        for record in &restored {
            l4::forget(&self.db, &record.key).await?;
        }
        Ok(restored.len() as u64)
    }

    fn corrupt(&self, key: &str, tier: &'static str) -> StoreError {
        self.report(StoreEvent::CorruptCopy {
            key: key.to_owned(),
            tier,
        });
        StoreError::Corrupt {
            key: key.to_owned(),
            tier,
        }
    }

    /// A segment's records, decoded once its object matched the indexed hash.
    async fn segment(
        &self,
        segment: &Segment,
    ) -> Result<Arc<HashMap<String, Arc<Record>>>, StoreError> {
        if let Some(cached) = self.segments.get(&segment.id) {
            return Ok(cached);
        }
        let records: HashMap<String, Arc<Record>> = self
            .objects
            .read_segment(segment)
            .await?
            .into_iter()
            .map(|r| (r.key.clone(), Arc::new(r)))
            .collect();
        let records = Arc::new(records);
        self.segments.insert(segment.id.clone(), records.clone());
        Ok(records)
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
            let due = l2::older_than(&self.db, before_ms, want as i64).await?;
            if due.is_empty() {
                break;
            }
            let mut intact = Vec::with_capacity(due.len());
            for row in due {
                if row.is_intact() {
                    intact.push(Arc::new(row));
                } else {
                    // Left in L2 for `verify`: a corrupt copy is never moved.
                    let key = row.key.clone();
                    self.report(StoreEvent::CorruptCopy { key, tier: "l2" });
                }
            }
            if intact.is_empty() {
                break;
            }
            let segment = self.objects.write_segment(&intact).await?;
            moved.records += l3::commit_move(&self.db, &segment, &intact, now_ms()).await?;
            moved.segments += 1;
        }
        Ok(moved)
    }

    /// Records whose key starts with `prefix`, in key order (at most `limit`), from every
    /// tier, each checked; a corrupt one fails the scan with its key rather than being
    /// skipped (an L2 copy is repaired from L1 first when it can be).
    pub async fn scan(&self, prefix: &str, limit: u32) -> Result<Vec<Arc<Record>>, StoreError> {
        let rows = l2::scan(&self.db, prefix, i64::from(limit)).await?;
        let mut found: std::collections::BTreeMap<String, Arc<Record>> = Default::default();
        for row in rows {
            if !row.is_intact() {
                let key = row.key.clone();
                match self.repair_from_l1(&row).await? {
                    Some(good) => {
                        found.insert(key, good);
                        continue;
                    }
                    None => return Err(StoreError::Corrupt { key, tier: "l2" }),
                }
            }
            found.insert(row.key.clone(), Arc::new(row));
        }
        // L3 and L4: each segment or archive read and checked once, however many of its
        // records match.
        for tier in [Tier::L3, Tier::L4] {
            for (key, object, version) in
                l3::locate_prefix(&self.db, tier.index(), prefix, i64::from(limit)).await?
            {
                if let std::collections::btree_map::Entry::Vacant(slot) = found.entry(key) {
                    let record = self.read_object(tier, slot.key(), &object, version).await?;
                    slot.insert(record);
                }
            }
        }
        Ok(found.into_values().take(limit as usize).collect())
    }

    /// Removes the record from every tier; whether it existed.
    pub async fn delete(&self, key: &str) -> Result<bool, StoreError> {
        let in_l2 = l2::delete(&self.db, key).await?;
        let in_l3 = l3::forget(&self.db, key).await?;
        let in_l4 = l4::forget(&self.db, key).await?;
        self.l1.invalidate(key);
        Ok(in_l2 || in_l3 || in_l4)
    }

    /// Checks every copy in L2 and L3 against its hash. A corrupt L2 row is rewritten from
    /// an intact L1 copy of the same version; a damaged segment is rewritten when every record
    /// the index places in it has an intact copy of that version in L1 or L2.
    pub async fn verify(&self) -> Result<Verified, StoreError> {
        let mut found = Verified::default();
        let mut after = String::new();
        loop {
            let page = l2::page(&self.db, &after, 1_000).await?;
            let Some(last) = page.last() else { break };
            after = last.key.clone();
            for row in page {
                found.checked += 1;
                if row.is_intact() {
                    continue;
                }
                found.corrupt.push(row.key.clone());
                if self.repair_from_l1(&row).await?.is_some() {
                    found.repaired.push(row.key.clone());
                }
            }
        }
        for segment in l3::segments(&self.db).await? {
            let indexed = l3::keys_in(&self.db, &segment.id).await?;
            self.segments.invalidate(&segment.id);
            let damaged: Vec<String> = match self.objects.read_segment(&segment).await {
                Ok(records) => {
                    let by_key: HashMap<&str, &Record> =
                        records.iter().map(|r| (r.key.as_str(), r)).collect();
                    indexed
                        .iter()
                        .filter(|(key, version)| {
                            !by_key
                                .get(key.as_str())
                                .is_some_and(|r| r.version == **version && r.is_intact())
                        })
                        .map(|(key, _)| key.clone())
                        .collect()
                }
                Err(L3Error::Damaged { .. }) => indexed.keys().cloned().collect(),
                Err(e) => return Err(e.into()),
            };
            found.checked += indexed.len() as u64;
            if damaged.is_empty() {
                continue;
            }
            for key in &damaged {
                self.report(StoreEvent::CorruptCopy {
                    key: key.clone(),
                    tier: "l3",
                });
            }
            found.corrupt.extend(damaged.iter().cloned());
            if self.repair_segment(&segment, &indexed).await? {
                found.repaired.extend(damaged);
            }
        }
        if let Some(key) = &self.archive_key {
            for (archive, indexed) in l4::archives(&self.db).await? {
                found.checked += indexed.len() as u64;
                let damaged: Vec<String> = match self.objects.read_archive(key, &archive).await {
                    Ok(records) => {
                        let by_key: HashMap<&str, &Record> =
                            records.iter().map(|r| (r.key.as_str(), r)).collect();
                        indexed
                            .iter()
                            .filter(|(key, version)| {
                                !by_key
                                    .get(key.as_str())
                                    .is_some_and(|r| r.version == *version && r.is_intact())
                            })
                            .map(|(key, _)| key.clone())
                            .collect()
                    }
                    Err(L3Error::Damaged { .. }) => {
                        indexed.iter().map(|(k, _)| k.clone()).collect()
                    }
                    Err(e) => return Err(e.into()),
                };
                for key in &damaged {
                    self.report(StoreEvent::CorruptCopy {
                        key: key.clone(),
                        tier: "l4",
                    });
                }
                found.corrupt.extend(damaged);
            }
        }
        Ok(found)
    }

    /// Rewrites a damaged segment from intact copies elsewhere, if every record it should
    /// hold has one.
    async fn repair_segment(
        &self,
        segment: &Segment,
        indexed: &HashMap<String, u64>,
    ) -> Result<bool, StoreError> {
        let mut good = Vec::with_capacity(indexed.len());
        for (key, version) in indexed {
            let copy = match self.l1.get(key) {
                Some(hit) => Some(hit),
                None => l2::read(&self.db, key).await?.map(Arc::new),
            };
            match copy {
                Some(copy) if copy.version == *version && copy.is_intact() => good.push(copy),
                _ => return Ok(false),
            }
        }
        good.sort_by(|a, b| a.key.cmp(&b.key));
        let hash = self.objects.rewrite_segment(segment, &good).await?;
        l3::set_hash(&self.db, &segment.id, &hash).await?;
        for record in &good {
            self.report(StoreEvent::Repaired {
                key: record.key.clone(),
                tier: "l3",
                from: "l1/l2",
                version: record.version,
            });
        }
        Ok(true)
    }

    /// Reports a corrupt L2 row and rewrites it from L1 if L1 holds that version intact.
    async fn repair_from_l1(&self, corrupt: &Record) -> Result<Option<Arc<Record>>, StoreError> {
        self.report(StoreEvent::CorruptCopy {
            key: corrupt.key.clone(),
            tier: "l2",
        });
        let Some(good) = self.l1.get(&corrupt.key) else {
            return Ok(None);
        };
        if good.version != corrupt.version || !good.is_intact() {
            return Ok(None);
        }
        if !l2::restore(&self.db, &good).await? {
            return Ok(None);
        }
        self.report(StoreEvent::Repaired {
            key: corrupt.key.clone(),
            tier: "l2",
            from: "l1",
            version: good.version,
        });
        Ok(Some(good))
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
        self.l1.run_pending_tasks();
        let (l2_records, l2_bytes, l2_oldest_ms, l2_newest_ms) = l2::stats(&self.db).await?;
        let (l3_records, l3_segments, l3_bytes, l3_oldest_ms) = l3::stats(&self.db).await?;
        let (l4_records, l4_archives, l4_bytes) = l4::stats(&self.db).await?;
        Ok(Stats {
            l1_records: self.l1.entry_count(),
            l1_bytes: self.l1.weighted_size(),
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
        })
    }

    /// Drops L1 and the decoded-segment cache (tests and benchmarks: force reads through
    /// to L2 and L3).
    pub fn clear_l1(&self) {
        self.l1.invalidate_all();
        self.l1.run_pending_tasks();
        self.segments.invalidate_all();
        self.segments.run_pending_tasks();
    }
}
