//! Writing: records (checksummed, versioned, into L2 and L1 in one go, or queued while the
//! database is down), deletes, and time-series points.

use super::*;

impl Store {
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
}
