//! Switchyard's tiered store: data is instant while it is recent and is never served corrupt.
//!
//! This crate holds the first two tiers of the design (`../shared/DESIGN.md`, "Storage
//! tiers"); object storage (L3), the archive (L4), time series and background tiering are
//! still to come.
//!
//! # Layout
//!
//! - [`record`]: a [`Record`] (key, value, version) and its BLAKE3 content hash.
//! - [`l2`]: the SQL tier (`store_records`, SQLite or PostgreSQL): batched upserts that bump
//!   versions, reads, prefix scans, deletes, a full scan for verification, and statistics.
//! - [`store`]: the [`Store`] callers use: L1 (a size-bounded `moka` cache of verified
//!   records) over L2. Every value read from SQL is checked against its hash before it is
//!   served or cached; a corrupt copy is reported on the event channel and repaired from a
//!   good copy in L1 when there is one, and never returned.

pub mod l2;
pub mod record;
pub mod store;

pub use record::{Hash, Record};
pub use store::{Stats, Store, StoreConfig, StoreError, StoreEvent, Verified};
