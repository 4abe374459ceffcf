//! Writes accepted while the database is unreachable: kept in memory, in order, up to a
//! bound, and written by one background flusher as soon as the database answers again.
//!
//! Once anything is queued, later writes queue behind it (even if the database is back) so
//! that a key's writes reach L2 in the order they were made.

use std::collections::VecDeque;
use std::sync::Arc;
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

use crate::l2;
use crate::record::{Hash, Record};
use crate::store::{Store, StoreError, now_ms};

/// Writes per flush transaction.
const FLUSH_BATCH: usize = 5_000;
/// Backoff between attempts while the database stays unreachable.
const RETRY_FIRST: std::time::Duration = std::time::Duration::from_millis(100);
const RETRY_MAX: std::time::Duration = std::time::Duration::from_secs(2);

/// One write waiting for the database.
#[derive(Debug, Clone)]
pub(crate) struct Pending {
    pub key: String,
    pub value: Arc<[u8]>,
    pub hash: Hash,
    /// When the write was accepted, milliseconds since the epoch.
    pub accepted_at_ms: i64,
}

impl Pending {
    /// The write as a reader sees it while it waits: version 0, "not yet written".
    pub fn record(self) -> Record {
        Record {
            key: self.key,
            value: self.value,
            version: 0,
            hash: self.hash,
            updated_at_ms: self.accepted_at_ms,
        }
    }
}

#[derive(Debug)]
pub(crate) struct WriteQueue {
    pending: Mutex<VecDeque<Pending>>,
    /// `pending.len()`, readable without the lock (the read path checks it on every `get`).
    len: AtomicUsize,
    limit: usize,
    /// Whether a flusher task is running.
    flushing: AtomicBool,
}

impl WriteQueue {
    pub fn new(limit: usize) -> Self {
        Self {
            pending: Mutex::new(VecDeque::new()),
            len: AtomicUsize::new(0),
            limit,
            flushing: AtomicBool::new(false),
        }
    }

    pub fn limit(&self) -> usize {
        self.limit
    }

    pub fn len(&self) -> usize {
        self.len.load(Ordering::Acquire)
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, VecDeque<Pending>> {
        self.pending
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Queues the whole batch, or none of it when it would pass the bound; the new depth.
    pub fn push(&self, batch: Vec<Pending>) -> Result<usize, ()> {
        let mut pending = self.lock();
        if pending.len() + batch.len() > self.limit {
            return Err(());
        }
        pending.extend(batch);
        self.len.store(pending.len(), Ordering::Release);
        Ok(pending.len())
    }

    /// The newest queued write of `key`.
    pub fn latest(&self, key: &str) -> Option<Pending> {
        self.lock().iter().rev().find(|p| p.key == key).cloned()
    }

    /// The oldest `n` queued writes (left in the queue until [`Self::pop`]).
    pub fn front(&self, n: usize) -> Vec<Pending> {
        self.lock().iter().take(n).cloned().collect()
    }

    /// Drops the oldest `n` writes, once they are durable.
    pub fn pop(&self, n: usize) {
        let mut pending = self.lock();
        let n = n.min(pending.len());
        pending.drain(..n);
        self.len.store(pending.len(), Ordering::Release);
    }

    /// Claims the flusher's role; false if a flusher is already running.
    pub fn start_flushing(&self) -> bool {
        !self.flushing.swap(true, Ordering::AcqRel)
    }

    /// Gives the role up. Returns true if writes arrived meanwhile and the caller must carry
    /// on flushing (it has the role again).
    pub fn stop_flushing(&self) -> bool {
        self.flushing.store(false, Ordering::Release);
        !self.is_empty() && self.start_flushing()
    }
}

impl Store {
    /// Starts the flusher unless one runs: it writes the queue to L2 in order, in batches,
    /// retrying with backoff until the database answers, then stops.
    pub(crate) fn flush_in_background(&self) {
        if !self.queue.start_flushing() {
            return;
        }
        let store = self.clone();
        tokio::spawn(async move {
            let mut wait = RETRY_FIRST;
            loop {
                let batch = store.queue.front(FLUSH_BATCH);
                if batch.is_empty() {
                    if store.queue.stop_flushing() {
                        continue;
                    }
                    return;
                }
                let writes: Vec<l2::Write<'_>> = batch
                    .iter()
                    .map(|p| (p.key.as_str(), &p.value[..], p.hash))
                    .collect();
                let now = now_ms();
                match store.sql(l2::upsert(&store.db, &writes, now).await) {
                    Ok(versions) => {
                        for (pending, version) in batch.iter().zip(versions) {
                            store.l1.insert(
                                pending.key.clone(),
                                Arc::new(Record {
                                    key: pending.key.clone(),
                                    value: pending.value.clone(),
                                    version,
                                    hash: pending.hash,
                                    updated_at_ms: now,
                                }),
                            );
                        }
                        store.queue.pop(batch.len());
                        wait = RETRY_FIRST;
                        tracing::info!(
                            written = batch.len(),
                            left = store.queue.len(),
                            "queued writes reached the database"
                        );
                    }
                    Err(e) => {
                        if !matches!(e, StoreError::Unreachable { .. }) {
                            tracing::error!(error = %e, "queued writes were refused; retrying");
                        }
                        tokio::time::sleep(wait).await;
                        wait = (wait * 2).min(RETRY_MAX);
                    }
                }
            }
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pending(key: &str, value: &[u8]) -> Pending {
        Pending {
            key: key.into(),
            value: Arc::from(value),
            hash: crate::record::hash(value),
            accepted_at_ms: 0,
        }
    }

    #[test]
    fn a_batch_is_queued_whole_or_refused_whole_and_reads_see_the_newest_write() {
        let queue = WriteQueue::new(3);
        assert_eq!(
            queue.push(vec![pending("a", b"1"), pending("b", b"1")]),
            Ok(2)
        );
        assert_eq!(
            queue.push(vec![pending("a", b"2"), pending("c", b"1")]),
            Err(())
        );
        assert_eq!(queue.len(), 2, "nothing of a refused batch is kept");
        assert_eq!(queue.push(vec![pending("a", b"2")]), Ok(3));
        assert_eq!(&queue.latest("a").unwrap().value[..], b"2");
        assert_eq!(queue.front(2).len(), 2);
        queue.pop(2);
        assert_eq!(queue.len(), 1);
        assert_eq!(&queue.front(5)[0].value[..], b"2");
        assert!(queue.start_flushing());
        assert!(!queue.start_flushing(), "one flusher at a time");
        assert!(queue.stop_flushing(), "a write is still queued: keep going");
        queue.pop(1);
        assert!(!queue.stop_flushing());
    }
}
