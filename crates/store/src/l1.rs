//! L1: verified records in memory, bounded by bytes (keys plus values), each kept at most a
//! time-to-live after it was cached.
//!
//! `quick_cache` (S3-FIFO eviction, sharded, no background work) holds them; the TTL is
//! checked when an entry is read, so a hit costs one hash lookup and one clock read.

use std::sync::Arc;
use std::time::{Duration, Instant};

use quick_cache::Weighter;

use crate::record::Record;

#[derive(Debug, Clone)]
struct Entry {
    record: Arc<Record>,
    cached_at: Instant,
}

/// An entry's weight: its key and value bytes plus a fixed overhead.
#[derive(Debug, Clone, Copy)]
struct Bytes;

impl Weighter<String, Entry> for Bytes {
    fn weight(&self, key: &String, entry: &Entry) -> u64 {
        (key.len() + entry.record.value.len() + 64) as u64
    }
}

/// Records in memory.
pub(crate) struct L1 {
    cache: quick_cache::sync::Cache<String, Entry, Bytes>,
    ttl: Duration,
}

impl L1 {
    /// Up to `bytes` of records, each for at most `ttl`.
    pub fn new(bytes: u64, ttl: Duration) -> Self {
        // The estimate sizes the tables up front; records average a few hundred bytes.
        let estimated = usize::try_from(bytes / 256).unwrap_or(usize::MAX).max(16);
        Self {
            cache: quick_cache::sync::Cache::with_weighter(estimated, bytes, Bytes),
            ttl,
        }
    }

    /// The cached record, unless it outlived the TTL (it is then dropped).
    pub fn get(&self, key: &str) -> Option<Arc<Record>> {
        let entry = self.cache.get(key)?;
        if entry.cached_at.elapsed() <= self.ttl {
            return Some(entry.record);
        }
        self.cache.remove(key);
        None
    }

    pub fn insert(&self, key: String, record: Arc<Record>) {
        let cached_at = Instant::now();
        self.cache.insert(key, Entry { record, cached_at });
    }

    pub fn invalidate(&self, key: &str) {
        self.cache.remove(key);
    }

    pub fn clear(&self) {
        self.cache.clear();
    }

    /// Records held (some may have outlived the TTL and not been read since).
    pub fn len(&self) -> u64 {
        self.cache.len() as u64
    }

    /// Their weight in bytes.
    pub fn bytes(&self) -> u64 {
        self.cache.weight()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(key: &str, size: usize) -> Arc<Record> {
        let value: Arc<[u8]> = Arc::from(vec![7u8; size]);
        Arc::new(Record {
            key: key.into(),
            hash: crate::record::hash(&value),
            value,
            version: 1,
            updated_at_ms: 0,
        })
    }

    #[test]
    fn entries_expire_after_the_ttl_and_the_byte_budget_holds() {
        let l1 = L1::new(100_000, Duration::from_millis(50));
        l1.insert("a".into(), record("a", 10));
        assert!(l1.get("a").is_some());
        std::thread::sleep(Duration::from_millis(80));
        assert!(l1.get("a").is_none(), "outlived its TTL");
        assert_eq!(l1.len(), 0, "dropped when read");

        let l1 = L1::new(100_000, Duration::from_secs(60));
        for i in 0..1_000 {
            l1.insert(format!("k{i}"), record("k", 1_000));
        }
        assert!(l1.bytes() <= 100_000, "{} bytes held", l1.bytes());
        assert!(l1.len() > 0);
        l1.invalidate("k999");
        assert!(l1.get("k999").is_none());
        l1.clear();
        assert_eq!(l1.len(), 0);
    }
}
