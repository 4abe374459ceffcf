//! Reading: L1, then L2, then the object tiers, verifying every copy's checksum on the way
//! and repairing a corrupt one from a good tier; prefix scans and time-series queries.

use super::*;

impl Store {
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
}
