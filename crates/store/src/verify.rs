//! Finding damage and repairing it: [`Store::verify`] checks every copy in every tier, and
//! [`Store::repair`] replaces a corrupt copy with the newest intact one found elsewhere.
//!
//! A key lives in one of L2, L3 and L4 at a time; L1 and the write queue hold the copies
//! most often there to repair from. A damaged segment whose every record has an intact copy
//! of the same version is rewritten in place (it stays cold); otherwise each damaged record
//! that has an intact copy anywhere is put back in L2 (and ages down again from there).

use std::collections::HashMap;
use std::sync::Arc;

use crate::l2;
use crate::l3::{self, L3Error, Segment};
use crate::l4;
use crate::record::Record;
use crate::store::{Store, StoreError, StoreEvent, Tier, Verified};

impl Store {
    /// Replaces the corrupt copy of `key` found in `tier` (`"l2"`, `"l3"` or `"l4"`, holding
    /// `version`) with the newest intact copy in any other tier, reported as
    /// [`StoreEvent::Repaired`]; `None` when there is none.
    pub(crate) async fn repair(
        &self,
        key: &str,
        tier: &'static str,
        version: u64,
    ) -> Result<Option<Arc<Record>>, StoreError> {
        let mut best: Option<(Arc<Record>, &'static str)> = None;
        let mut consider = |copy: Arc<Record>, from: &'static str| {
            if copy.is_intact() && best.as_ref().is_none_or(|(b, _)| copy.version > b.version) {
                best = Some((copy, from));
            }
        };
        if let Some(hit) = self.l1.get(key) {
            consider(hit, "l1");
        }
        if tier != "l2"
            && let Some(row) = self.sql(l2::read(&self.db, key).await)?
        {
            consider(Arc::new(row), "l2");
        }
        for other in [Tier::L3, Tier::L4] {
            if other.name() == tier {
                continue;
            }
            let located = self.sql(l3::locate(&self.db, other.index(), key).await)?;
            if let Some((object, at)) = located
                && let Ok(copy) = self.read_object(other, key, &object, at).await
            {
                consider(copy, other.name());
            }
        }
        let Some((good, from)) = best else {
            return Ok(None);
        };
        let damaged_l2 = (tier == "l2").then_some(version);
        self.sql(l2::reinstate(&self.db, std::slice::from_ref(&good), damaged_l2).await)?;
        self.l1.insert(key.to_owned(), good.clone());
        self.report(StoreEvent::Repaired {
            key: key.to_owned(),
            tier,
            from,
            version: good.version,
        });
        Ok(Some(good))
    }

    /// Checks every copy in L2, L3 and L4 against its hash, and repairs what it can: see the
    /// module documentation. Objects left without any key are removed.
    pub async fn verify(&self) -> Result<Verified, StoreError> {
        let mut found = Verified::default();
        let mut after = String::new();
        loop {
            let page = self.sql(l2::page(&self.db, &after, 1_000).await)?;
            let Some(last) = page.last() else { break };
            after = last.key.clone();
            for row in page {
                found.checked += 1;
                if row.is_intact() {
                    continue;
                }
                found.corrupt.push(row.key.clone());
                self.report_corrupt(&row.key, "l2");
                if self.repair(&row.key, "l2", row.version).await?.is_some() {
                    found.repaired.push(row.key.clone());
                }
            }
        }
        for segment in self.sql(l3::segments(&self.db).await)? {
            let indexed = self.sql(l3::keys_in(&self.db, &segment.id).await)?;
            self.segments.invalidate(&Tier::L3.cache_key(&segment.id));
            let read = self.objects.read_segment(&segment).await;
            let damaged = self.damaged_in(read, &indexed)?;
            found.checked += indexed.len() as u64;
            if damaged.is_empty() {
                continue;
            }
            for key in &damaged {
                self.report_corrupt(key, "l3");
            }
            found.corrupt.extend(damaged.iter().cloned());
            if self.rewrite_segment(&segment, &indexed).await? {
                found.repaired.extend(damaged);
                continue;
            }
            for key in damaged {
                if self.repair(&key, "l3", indexed[&key]).await?.is_some() {
                    found.repaired.push(key);
                }
            }
        }
        if let Some(archive_key) = &self.archive_key {
            for (archive, indexed) in self.sql(l4::archives(&self.db).await)? {
                let indexed: HashMap<String, u64> = indexed.into_iter().collect();
                found.checked += indexed.len() as u64;
                self.segments.invalidate(&Tier::L4.cache_key(&archive.id));
                let read = self.objects.read_archive(archive_key, &archive).await;
                let damaged = self.damaged_in(read, &indexed)?;
                for key in &damaged {
                    self.report_corrupt(key, "l4");
                }
                found.corrupt.extend(damaged.iter().cloned());
                for key in damaged {
                    if self.repair(&key, "l4", indexed[&key]).await?.is_some() {
                        found.repaired.push(key);
                    }
                }
            }
        }
        self.drop_empty_objects().await?;
        Ok(found)
    }

    /// The keys `indexed` places in an object that it does not hold intact at that version,
    /// given what reading the object gave.
    fn damaged_in(
        &self,
        read: Result<Vec<Record>, L3Error>,
        indexed: &HashMap<String, u64>,
    ) -> Result<Vec<String>, StoreError> {
        let records = match read {
            Ok(records) => records,
            Err(L3Error::Damaged { .. }) => return Ok(indexed.keys().cloned().collect()),
            Err(e) => return self.obj(Err(e)),
        };
        let by_key: HashMap<&str, &Record> = records.iter().map(|r| (r.key.as_str(), r)).collect();
        let mut damaged: Vec<String> = indexed
            .iter()
            .filter(|(key, version)| {
                !by_key
                    .get(key.as_str())
                    .is_some_and(|r| r.version == **version && r.is_intact())
            })
            .map(|(key, _)| key.clone())
            .collect();
        damaged.sort();
        Ok(damaged)
    }

    /// Rewrites a damaged segment in place from intact copies elsewhere, if every record it
    /// should hold has one at the indexed version.
    async fn rewrite_segment(
        &self,
        segment: &Segment,
        indexed: &HashMap<String, u64>,
    ) -> Result<bool, StoreError> {
        let mut good = Vec::with_capacity(indexed.len());
        for (key, version) in indexed {
            let copy = match self.l1.get(key) {
                Some(hit) => Some(hit),
                None => self.sql(l2::read(&self.db, key).await)?.map(Arc::new),
            };
            match copy {
                Some(copy) if copy.version == *version && copy.is_intact() => good.push(copy),
                _ => return Ok(false),
            }
        }
        good.sort_by(|a, b| a.key.cmp(&b.key));
        let rewritten = self.objects.rewrite_segment(segment, &good).await;
        let hash = self.obj(rewritten)?;
        self.sql(l3::set_hash(&self.db, &segment.id, &hash).await)?;
        for record in &good {
            self.report(StoreEvent::Repaired {
                key: record.key.clone(),
                tier: "l3",
                from: "l1",
                version: record.version,
            });
        }
        Ok(true)
    }

    /// Removes segments and archives no key points at any more; how many.
    pub(crate) async fn drop_empty_objects(&self) -> Result<u64, StoreError> {
        let mut dropped = 0;
        for tier in [Tier::L3, Tier::L4] {
            for path in self.sql(l3::drop_empty(&self.db, tier.index()).await)? {
                self.objects.remove(&path).await;
                dropped += 1;
            }
        }
        Ok(dropped)
    }
}
