//! The store callers use: L1 (memory) over L2 (SQL), every copy checked.

use std::sync::Arc;
use std::time::Duration;

use moka::sync::Cache;
use switchyard_db::Database;
use tokio::sync::broadcast;

use crate::l2;
use crate::record::{self, Record};

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
    /// A store over a migrated database.
    pub fn new(db: Database, config: &StoreConfig) -> Self {
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
            events: broadcast::channel(1024).0,
        }
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

    /// The record, from L1 or else L2, never a copy that fails its hash. A corrupt L2 copy is
    /// reported, repaired from L1 when L1 holds the same version intact, and otherwise makes
    /// the read fail with [`StoreError::Corrupt`].
    pub async fn get(&self, key: &str) -> Result<Option<Arc<Record>>, StoreError> {
        if let Some(hit) = self.l1.get(key) {
            return Ok(Some(hit));
        }
        let Some(stored) = l2::read(&self.db, key).await? else {
            return Ok(None);
        };
        if !stored.is_intact() {
            self.report(StoreEvent::CorruptCopy {
                key: key.to_owned(),
                tier: "l2",
            });
            return Err(StoreError::Corrupt {
                key: key.to_owned(),
                tier: "l2",
            });
        }
        let stored = Arc::new(stored);
        self.l1.insert(key.to_owned(), stored.clone());
        Ok(Some(stored))
    }

    /// Records whose key starts with `prefix`, in key order (at most `limit`), read from L2
    /// and checked; a corrupt one fails the scan with its key rather than being skipped.
    pub async fn scan(&self, prefix: &str, limit: u32) -> Result<Vec<Arc<Record>>, StoreError> {
        let rows = l2::scan(&self.db, prefix, i64::from(limit)).await?;
        let mut out = Vec::with_capacity(rows.len());
        for row in rows {
            if !row.is_intact() {
                let key = row.key.clone();
                if let Some(good) = self.repair_from_l1(&row).await? {
                    out.push(good);
                    continue;
                }
                return Err(StoreError::Corrupt { key, tier: "l2" });
            }
            out.push(Arc::new(row));
        }
        Ok(out)
    }

    /// Removes the record from every tier; whether it existed.
    pub async fn delete(&self, key: &str) -> Result<bool, StoreError> {
        let existed = l2::delete(&self.db, key).await?;
        self.l1.invalidate(key);
        Ok(existed)
    }

    /// Checks every L2 copy against its hash, repairing from L1 what it can.
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
        Ok(found)
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

    /// Counts, bytes and ages per tier.
    pub async fn stats(&self) -> Result<Stats, StoreError> {
        self.l1.run_pending_tasks();
        let (l2_records, l2_bytes, l2_oldest_ms, l2_newest_ms) = l2::stats(&self.db).await?;
        Ok(Stats {
            l1_records: self.l1.entry_count(),
            l1_bytes: self.l1.weighted_size(),
            l2_records,
            l2_bytes,
            l2_oldest_ms,
            l2_newest_ms,
        })
    }

    /// Drops L1 (tests and benchmarks: force reads through to L2).
    pub fn clear_l1(&self) {
        self.l1.invalidate_all();
        self.l1.run_pending_tasks();
    }
}
