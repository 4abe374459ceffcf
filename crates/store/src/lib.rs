//! Switchyard's tiered store: data is instant while it is recent and is never served corrupt.
//!
//! This crate holds the first three tiers of the design (`../shared/DESIGN.md`, "Storage
//! tiers") and time series; retention deletes and L1 sizing by policy are still to come.
//!
//! # Layout
//!
//! - [`record`]: a [`Record`] (key, value, version) and its BLAKE3 content hash.
//! - [`l2`]: the SQL tier (`store_records`, SQLite or PostgreSQL): batched upserts that bump
//!   versions, reads, prefix scans, deletes, a full scan for verification, and statistics.
//! - [`l3`]: the object-storage tier: zstd-compressed JSONL segments in any `object_store`
//!   (a local directory by default), each hashed as a whole, indexed in SQL.
//! - [`l4`]: the archive: old segments compacted into objects sealed with XChaCha20-Poly1305
//!   under the configured key, indexed in SQL, read back transparently or restored to L2.
//! - [`series`]: time series: points folded into 1 s / 1 min / 1 h rollups as they are
//!   appended; queries read the coarsest rollup that fits their step.
//! - [`store`]: the [`Store`] callers use: L1 (a size-bounded `moka` cache of verified
//!   records) over L2. Every value read from SQL is checked against its hash before it is
//!   served or cached; a corrupt copy is reported on the event channel and repaired from a
//!   good copy in L1 when there is one, and never returned.

/// Runs the same sqlx expression on whichever pool the database holds: one query text, typed
/// for each backend.
macro_rules! on_pool {
    ($db:expr, $pool:ident => $body:expr) => {
        match $db {
            switchyard_db::Database::Sqlite($pool) => $body,
            switchyard_db::Database::Postgres($pool) => $body,
        }
    };
}

pub mod l2;
pub mod l3;
pub mod l4;
pub mod record;
pub mod series;
pub mod store;

pub use l3::Objects;
pub use l4::ArchiveKey;
pub use record::{Hash, Record};
pub use series::{Bucket, Point, SeriesError};
pub use store::{Moved, Stats, Store, StoreConfig, StoreError, StoreEvent, Verified};
