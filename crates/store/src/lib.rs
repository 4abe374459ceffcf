//! Switchyard's tiered store: data is instant while it is recent, cheap when it is old, and
//! never served corrupt.
//!
//! # Layout
//!
//! - [`record`]: a [`Record`] (key, value, version) and its BLAKE3 content hash.
//! - [`store`]: the [`Store`] callers use: L1 over L2 over L3 over L4. `put`/`put_batch`, `get`, `scan`, `delete`, the
//!   moves (`tier_down`, `archive`, `restore`), and `stats`. A key lives in exactly one of
//!   L2, L3 and L4; rewriting a key brings it back to L2 with its version carried on.
//! - `l1`: verified records in memory (`quick_cache`), bounded by bytes, with a time-to-live
//!   checked on read; decoded segments and archives are kept in a small `moka` cache.
//! - [`l2`]: the SQL tier (`store_records`, SQLite or PostgreSQL): batched upserts that bump
//!   versions, reads, prefix scans, deletes, retention, and statistics.
//! - [`l3`]: the object-storage tier: zstd-compressed JSONL segments, each hashed as a whole,
//!   indexed in SQL; the index lookups L3 and L4 share.
//! - [`l4`]: the archive: old segments compacted into objects sealed with XChaCha20-Poly1305
//!   under the configured key, read back transparently or restored to L2.
//! - [`objects`]: opening the object store (a local directory, or `s3://` through
//!   `object_store`) and probing it.
//! - [`policy`]: the tiering [`Policy`] (ages, byte budgets, retention per tier) and one
//!   pass of it, [`Store::maintain`].
//! - [`verify`]: `Store::verify` (every copy in every tier) and the repair of a corrupt copy
//!   from the newest intact copy in another tier.
//! - [`queue`]: writes held in memory, with a bound, while the database is unreachable, and
//!   their flusher.
//! - [`health`]: whether the database and the object store answer ([`StoreHealth`]).
//! - [`series`]: time series: points folded into 1 s / 1 min / 1 h rollups as they are
//!   appended; queries read the coarsest rollup that fits their step.

// `on_pool!`: one query text on whichever pool the database holds.
#[macro_use]
extern crate switchyard_db;

/// Inside the open transaction `$tx`: records `$object` (a [`l3::Segment`] or archive) in
/// `$index`'s table of objects and points the index at it for each of `$records`. The
/// shared first half of committing a move into L3 or L4.
macro_rules! index_object {
    ($tx:expr, $index:expr, $object:expr, $records:expr, $now_ms:expr) => {{
        let index: $crate::l3::Index = $index;
        let object: &$crate::l3::Segment = $object;
        sqlx::query(&format!(
            "INSERT INTO {} (id, path, records, bytes, hash, created_at_ms) \
             VALUES ($1, $2, $3, $4, $5, $6)",
            index.objects
        ))
        .bind(&object.id)
        .bind(&object.path)
        .bind(object.records as i64)
        .bind(object.bytes as i64)
        .bind(&object.hash[..])
        .bind($now_ms)
        .execute(&mut *$tx)
        .await?;
        for chunk in $records.chunks(6_000) {
            let mut rows = sqlx::QueryBuilder::new(format!(
                "INSERT INTO {} (key, {}, version, updated_at_ms) ",
                index.keys, index.id_column
            ));
            rows.push_values(chunk, |mut row, record| {
                row.push_bind(record.key.as_str())
                    .push_bind(object.id.as_str())
                    .push_bind(record.version as i64)
                    .push_bind(record.updated_at_ms);
            });
            rows.push(format!(
                " ON CONFLICT (key) DO UPDATE SET {column} = excluded.{column}, \
                 version = excluded.version, updated_at_ms = excluded.updated_at_ms",
                column = index.id_column
            ));
            rows.build().execute(&mut *$tx).await?;
        }
    }};
}

pub mod health;
mod l1;
pub mod l2;
pub mod l3;
pub mod l4;
pub mod objects;
pub mod policy;
pub mod queue;
pub mod record;
pub mod series;
pub mod store;
pub mod verify;

pub use health::{Reachability, StoreHealth};
pub use l3::Objects;
pub use l4::ArchiveKey;
pub use policy::{Maintained, Policy};
pub use record::{Hash, Record};
pub use series::{Bucket, Point, SeriesError};
pub use store::{Moved, Stats, Store, StoreConfig, StoreError, StoreEvent, Verified, Written};
