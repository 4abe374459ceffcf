//! Where data goes as it ages: the tiering policy and one pass of it, [`Store::maintain`].
//!
//! One pass, in order: retention deletes (per tier, by the time of a record's last write),
//! then moves by age (L2 → L3 after `l2_max_age`, L3 → L4 after `archive_after`), then moves
//! by size (the oldest data leaves a tier over its byte budget), then objects no key points
//! at are removed. Every move is copy → verify → one committing transaction (see
//! [`Store::tier_down`] and [`Store::archive`]); deletes are single statements.

use std::time::Duration;

use crate::l2;
use crate::l3;
use crate::store::{Moved, Store, StoreError, Tier, now_ms};

/// Records per L3 segment the policy writes.
const SEGMENT_RECORDS: usize = 20_000;
/// Segments per archive object.
const ARCHIVE_SEGMENTS: usize = 64;
/// The most records one pass moves or deletes per step, so a pass stays short.
const PASS_LIMIT: usize = 200_000;

/// How long data stays in each tier, how big a tier may grow, and when data is deleted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Policy {
    /// Records last written longer ago than this move from L2 to L3.
    pub l2_max_age: Duration,
    /// When L2 holds more value bytes than this, its oldest records move to L3.
    pub l2_max_bytes: Option<u64>,
    /// Segments older than this are sealed into the archive (L4). `None`: no archiving.
    pub archive_after: Option<Duration>,
    /// When L3 holds more compressed bytes than this, its oldest segments are archived.
    pub l3_max_bytes: Option<u64>,
    /// Records last written longer ago than this are deleted from L2, L3 and L4
    /// respectively (`None`: kept).
    pub l2_retention: Option<Duration>,
    pub l3_retention: Option<Duration>,
    pub l4_retention: Option<Duration>,
}

impl Default for Policy {
    /// Seven days in L2, then L3 for good: archiving and deletes are opt-in.
    fn default() -> Self {
        Self {
            l2_max_age: Duration::from_secs(7 * 24 * 3_600),
            l2_max_bytes: None,
            archive_after: None,
            l3_max_bytes: None,
            l2_retention: None,
            l3_retention: None,
            l4_retention: None,
        }
    }
}

/// What one pass did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Maintained {
    /// L2 → L3, by age and by size.
    pub tiered: Moved,
    /// L3 → L4, by age and by size.
    pub archived: Moved,
    /// Records deleted by retention from L2, L3 and L4.
    pub expired: [u64; 3],
    /// Segment and archive objects removed because no key pointed at them any more.
    pub objects_removed: u64,
}

fn before(now_ms: i64, age: Duration) -> i64 {
    now_ms.saturating_sub(i64::try_from(age.as_millis()).unwrap_or(i64::MAX))
}

fn add(total: &mut Moved, more: &Moved) {
    total.records += more.records;
    total.segments += more.segments;
}

impl Store {
    /// Runs the policy once (see the module documentation).
    pub async fn maintain(&self, policy: &Policy) -> Result<Maintained, StoreError> {
        let now = now_ms();
        let mut done = Maintained::default();

        if let Some(keep) = policy.l2_retention {
            let expired =
                self.sql(l2::expire(&self.db, before(now, keep), PASS_LIMIT as i64).await)?;
            for key in &expired {
                self.l1.invalidate(key);
            }
            done.expired[0] = expired.len() as u64;
        }
        for (slot, tier, keep) in [
            (1, Tier::L3, policy.l3_retention),
            (2, Tier::L4, policy.l4_retention),
        ] {
            if let Some(keep) = keep {
                let expired = self.sql(
                    l3::expire(&self.db, tier.index(), before(now, keep), PASS_LIMIT as i64).await,
                )?;
                for key in &expired {
                    self.l1.invalidate(key);
                }
                done.expired[slot] = expired.len() as u64;
            }
        }

        let moved = self
            .tier_down(before(now, policy.l2_max_age), PASS_LIMIT, SEGMENT_RECORDS)
            .await?;
        add(&mut done.tiered, &moved);
        if let Some(budget) = policy.l2_max_bytes {
            let moved = self.trim_l2(budget).await?;
            add(&mut done.tiered, &moved);
        }

        if self.archives() {
            if let Some(after) = policy.archive_after {
                loop {
                    let moved = self.archive(before(now, after), ARCHIVE_SEGMENTS).await?;
                    add(&mut done.archived, &moved);
                    if moved.segments < ARCHIVE_SEGMENTS as u64 {
                        break;
                    }
                }
            }
            if let Some(budget) = policy.l3_max_bytes {
                let moved = self.trim_l3(budget).await?;
                add(&mut done.archived, &moved);
            }
        }

        done.objects_removed = self.drop_empty_objects().await?;
        Ok(done)
    }

    /// Moves L2's oldest records to L3 until its values fit in `budget` bytes.
    async fn trim_l2(&self, budget: u64) -> Result<Moved, StoreError> {
        let mut total = Moved::default();
        loop {
            let (records, bytes, _, _) = self.sql(l2::stats(&self.db).await)?;
            if bytes <= budget || records == 0 {
                return Ok(total);
            }
            let average = (bytes / records).max(1);
            let over = (bytes - budget).div_ceil(average) as usize;
            let moved = self
                .tier_down(i64::MAX, over.clamp(1, PASS_LIMIT), SEGMENT_RECORDS)
                .await?;
            if moved.records == 0 {
                return Ok(total);
            }
            add(&mut total, &moved);
        }
    }

    /// Archives L3's oldest segments until what is left fits in `budget` bytes.
    async fn trim_l3(&self, budget: u64) -> Result<Moved, StoreError> {
        let objects = self.sql(l3::objects_by_age(&self.db, l3::SEGMENTS).await)?;
        let mut excess = objects
            .iter()
            .map(|(_, bytes)| bytes)
            .sum::<u64>()
            .saturating_sub(budget);
        let mut count = 0;
        for (_, bytes) in &objects {
            if excess == 0 {
                break;
            }
            excess = excess.saturating_sub(*bytes);
            count += 1;
        }
        let mut total = Moved::default();
        while count > 0 {
            let take = count.min(ARCHIVE_SEGMENTS);
            let moved = self.archive(i64::MAX, take).await?;
            if moved.segments == 0 {
                break;
            }
            add(&mut total, &moved);
            count -= take;
        }
        Ok(total)
    }
}
