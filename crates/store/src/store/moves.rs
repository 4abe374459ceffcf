//! Moving data between tiers: L2 down to L3 by age, L3 into the archive, and back out of it.
//! Every move is copy, verify, then delete.

use super::*;

impl Store {
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
}
